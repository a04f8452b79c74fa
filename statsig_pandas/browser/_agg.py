"""An Agg canvas for a figure drawn again and again: each string is shaped and rasterised once.

matplotlib 3.11's Agg shapes every string and renders each of its glyphs at
the sub-pixel point it falls on, at every draw, and reads two font tables
each time it measures a text; the browser's charts draw the same few dozen
strings at every redraw, and that was most of their drawing time. This
renderer puts each string's origin on a whole pixel (as Agg did before
3.11), so that its glyph bitmaps are the same wherever it is drawn: they are
rendered once per string and kept. It also notes the ink box of every string
drawn, so that a chart can tell whether its text still fits the figure.

On a matplotlib without that text machinery (3.8 to 3.10 shape and place a
string as one bitmap, already once per draw) and for mathtext, the stock
drawing runs; the boxes are then noted from the text's metrics.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.ft2font import FT2Font

try:
    from matplotlib.ft2font import RenderMode
except ImportError:  # matplotlib < 3.11
    RenderMode = None

#: Whether this matplotlib draws text glyph by glyph (3.11 and later).
GLYPH_RUNS = (RenderMode is not None and hasattr(FT2Font, "_layout")
              and hasattr(RendererAgg, "_draw_text_glyphs_and_boxes"))
# Strings kept per renderer; far more than a chart shows, few enough to bound the memory.
MAX_STRINGS = 4096


class _Run:
    """A string's glyph bitmaps, each with its offset from the string's origin (pixels, y down)."""

    __slots__ = ("box", "glyphs")

    def __init__(self, glyphs: list[tuple[np.ndarray, int, int]]):
        self.glyphs = glyphs
        if glyphs:
            self.box = (min(dx for _, dx, _ in glyphs), min(dy - b.shape[0] for b, _, dy in glyphs),
                        max(dx + b.shape[1] for b, dx, _ in glyphs), max(dy for _, _, dy in glyphs))
        else:
            self.box = None


class TextCachingRenderer(RendererAgg):
    """A :class:`~matplotlib.backends.backend_agg.RendererAgg` that keeps what its strings look like.

    ``text_boxes`` holds ``(x0, y0, x1, y1)``, pixels from the top left, of
    each string drawn since the last :meth:`clear` (every draw starts with one).
    """

    def __init__(self, width: float, height: float, dpi: float):
        super().__init__(width, height, dpi)
        self.text_boxes: list[tuple[float, float, float, float]] = []
        self._runs: dict[tuple, _Run] = {}
        self._heights: dict[int, tuple[Any, Any, Any]] = {}

    def clear(self) -> None:
        super().clear()
        self.text_boxes = []

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath or not GLYPH_RUNS:
            super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            self._note_metrics_box(x, y, s, prop, angle, ismath)
            return
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        mono = not gc.get_antialiased()
        key = (s, hash(prop), angle, mono, features if features is None else tuple(features), language,
               get_hinting_flag())
        run = self._runs.get(key)
        if run is None:
            if len(self._runs) >= MAX_STRINGS:
                self._runs.clear()
            run = self._runs[key] = self._rasterise(s, prop, angle, mono, features, language)
        x, y = round(x), round(y)
        for bitmap, dx, dy in run.glyphs:
            # draw_text_image takes the bitmap's left and its bottom, y down.
            self._renderer.draw_text_image(bitmap, x + dx, y + dy, 0, gc)
        if run.box is not None:
            x0, y0, x1, y1 = run.box
            self.text_boxes.append((x + x0, y + y0, x + x1, y + y1))

    def _rasterise(self, s, prop, angle, mono, features, language) -> _Run:
        """What RendererAgg.draw_text draws for a string at the origin: its glyphs, rendered once."""
        font = self._prepare_font(prop)
        items = font._layout(s, flags=get_hinting_flag(), features=features, language=language)
        size = prop.get_size_in_points()
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        flags, mode = get_hinting_flag(), RenderMode.MONO if mono else RenderMode.NORMAL
        glyphs = []
        for item in items:
            item.ft_object.set_size(size, self.dpi)
            # FreeType's y is up; at a whole-pixel origin the bitmap only moves by whole pixels.
            item.ft_object._set_transform(matrix, [round(0x40 * (item.x * cos - item.y * sin)),
                                                   round(0x40 * (item.x * sin + item.y * cos))])
            bitmap = item.ft_object._render_glyph(item.glyph_index, flags, mode)
            buffer = bitmap.buffer
            if mono:
                buffer *= 0xff
            if buffer.size:
                glyphs.append((buffer, bitmap.left, buffer.shape[0] - bitmap.top))
        return _Run(glyphs)

    def _note_metrics_box(self, x, y, s, prop, angle, ismath) -> None:
        w, h, d = self.get_text_width_height_descent(s, prop, ismath)
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        # The text's box about its origin (baseline left), turned by angle (counter-clockwise, y up).
        corners = [(cx * cos - cy * sin, cx * sin + cy * cos) for cx in (0, w) for cy in (-d, h - d)]
        self.text_boxes.append((x + min(c[0] for c in corners), y - max(c[1] for c in corners),
                                x + max(c[0] for c in corners), y - min(c[1] for c in corners)))

    def _get_font_height_metrics(self, prop):
        # matplotlib 3.11 asks a renderer for a font's ascent, descent and line gap before
        # measuring each text, reading them from the font's tables if it does not answer;
        # the same reading, kept per font.
        key = hash(prop)
        if key not in self._heights:
            self._heights[key] = _font_height_metrics(self._prepare_font(prop), prop, self.dpi)
        return self._heights[key]


def _font_height_metrics(font, prop, dpi: float) -> tuple[Any, Any, Any]:
    """A font's ascent, descent and line gap in pixels, as matplotlib's Text reads them."""
    for table_name, gap, ascent, descent in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                             ("hhea", "lineGap", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is not None:
            scale = prop.get_size_in_points() * dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
            return table[ascent] * scale, -table[descent] * scale, table[gap] * scale
    return None, None, None


class TextCachingCanvas(FigureCanvasAgg):
    """A :class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` drawing with a :class:`TextCachingRenderer`."""

    def get_renderer(self) -> TextCachingRenderer:
        key = (*self.get_width_height(physical=True), self.figure.dpi)
        if self._lastKey != key:  # kept, with what it knows, while the size stays
            self.renderer = TextCachingRenderer(*key)
            self._lastKey = key
        return self.renderer
