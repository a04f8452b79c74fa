"""The static stand-in of a widget output, for viewers with no kernel behind them.

An exported report, nbconvert's stock HTML and GitHub show a widget's output
by the best of the other types in its bundle, and a viewer shows one type per
output, preferring HTML to PNG: a chart meant to be seen must therefore be in
the HTML itself. Used by the event browser's own bundle and by the report's
export; private to the package.
"""

from __future__ import annotations


def with_image(html: str, img: str) -> str:
    """``html`` with the ``<img>`` tag ``img`` placed under its headline (its first paragraph),
    or at its end when it has none; unchanged when it shows an image already."""
    if "<img" in html:
        return html
    head, sep, rest = html.partition("</p>")
    return head + sep + img + rest if sep else html + img
