"""A Sankey diagram of multi-step flows: nodes as rectangles, ribbons as cubic Bézier patches.

matplotlib's own ``Sankey`` draws the flows through one node, not columns of
them, so the diagram is laid out here: one column per step, nodes stacked by
size (the column's small ones folded into ``Others``), each ribbon leaving its
source below the ribbons before it and entering its target the same way.
Private to the package: the names here are public only to its modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

OTHERS = "Others"
_NODE_WIDTH = 0.08  # of a column's spacing
_PAD = 0.04  # room between the nodes of a column, of the tallest column


def fold_small(edges: pd.DataFrame, min_share: float) -> pd.DataFrame:
    """``edges`` (step, source, target, value) with the nodes holding less than ``min_share`` of their
    column renamed ``Others``, and edges that then coincide summed."""
    if not len(edges) or not min_share:
        return edges[["step", "source", "target", "value"]]
    nodes = node_values(edges)
    total = nodes.groupby("column")["value"].transform("sum")
    small = nodes.loc[nodes["value"] < min_share * total, ["column", "item"]]
    small = set(zip(small["column"], small["item"]))
    source = [OTHERS if (k, s) in small else s for k, s in zip(edges["step"], edges["source"])]
    target = [OTHERS if (k + 1, t) in small else t for k, t in zip(edges["step"], edges["target"])]
    folded = pd.DataFrame({"step": edges["step"].to_numpy(), "source": source, "target": target,
                           "value": edges["value"].to_numpy()})
    return folded.groupby(["step", "source", "target"], sort=False, as_index=False)["value"].sum()


def node_values(edges: pd.DataFrame) -> pd.DataFrame:
    """One row per node (column, item, value): the larger of what flows in and what flows out."""
    out = edges.groupby(["step", "source"], sort=False)["value"].sum()
    into = edges.groupby(["step", "target"], sort=False)["value"].sum()
    out.index = out.index.set_names(["column", "item"])
    into.index = pd.MultiIndex.from_arrays([into.index.get_level_values(0) + 1, into.index.get_level_values(1)],
                                           names=["column", "item"])
    both = pd.concat([out, into], axis=1, keys=["out", "in"]).fillna(0)
    return pd.DataFrame({"column": both.index.get_level_values(0), "item": both.index.get_level_values(1),
                         "value": both.max(axis=1).to_numpy()})


def draw(ax: Axes, edges: pd.DataFrame, *, label: Callable[[object], str]) -> None:
    """Draw the Sankey of ``edges`` (step, source, target, value) into ``ax``."""
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path

    nodes = node_values(edges)
    # Each column's nodes, biggest on top and Others at the bottom.
    nodes["others"] = nodes["item"].eq(OTHERS)
    nodes = nodes.sort_values(["column", "others", "value"], ascending=[True, True, False], kind="stable")
    tallest = nodes.groupby("column")["value"].sum().max()
    most_nodes = nodes.groupby("column").size().max()
    scale = (1 - _PAD * (most_nodes - 1)) / tallest  # height per unit of value
    top: dict[tuple[int, object], float] = {}
    colours: dict[object, str] = {}
    for column, group in nodes.groupby("column", sort=True):
        y = 1.0
        for item, value in zip(group["item"], group["value"]):
            height = value * scale
            top[(column, item)] = y
            colour = colours.setdefault(item, "0.6" if item == OTHERS else f"C{len(colours) % 10}")
            ax.add_patch(Rectangle((column - _NODE_WIDTH / 2, y - height), _NODE_WIDTH, height, facecolor=colour,
                                   edgecolor="none", zorder=2))
            ax.text(column + _NODE_WIDTH / 2 + 0.02, y - height / 2, f"{label(item)} ({value:,.0f})",
                    ha="left", va="center", fontsize="small", zorder=3)
            y -= height + _PAD
    # Ribbons: out of each source in the order of their targets, into each target in that of their sources.
    edges = edges.assign(
        source_top=[top[(k, s)] for k, s in zip(edges["step"], edges["source"])],
        target_top=[top[(k + 1, t)] for k, t in zip(edges["step"], edges["target"])],
        height=edges["value"].to_numpy() * scale)
    out_offset = edges.sort_values(["step", "source_top", "target_top"], ascending=[True, False, False]).groupby(
        ["step", "source"], sort=False)["height"].cumsum().loc[edges.index] - edges["height"]
    in_offset = edges.sort_values(["step", "target_top", "source_top"], ascending=[True, False, False]).groupby(
        ["step", "target"], sort=False)["height"].cumsum().loc[edges.index] - edges["height"]
    for i, (step, source, height) in enumerate(zip(edges["step"], edges["source"], edges["height"])):
        x0, x1 = step + _NODE_WIDTH / 2, step + 1 - _NODE_WIDTH / 2
        a = edges["source_top"].iat[i] - out_offset.iat[i]
        b = edges["target_top"].iat[i] - in_offset.iat[i]
        mid = (x0 + x1) / 2
        vertices = [(x0, a), (mid, a), (mid, b), (x1, b), (x1, b - height), (mid, b - height), (mid, a - height),
                    (x0, a - height), (x0, a)]
        codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
                 Path.CURVE4, Path.CLOSEPOLY]
        ax.add_patch(PathPatch(Path(vertices, codes), facecolor=colours[source], edgecolor="none", alpha=0.35,
                               zorder=1))
    columns = int(nodes["column"].max())
    ax.set_xlim(0.8, columns + 0.6)  # room for the last column's labels
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(range(1, columns + 1), [f"Step {k}" for k in range(1, columns + 1)])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
