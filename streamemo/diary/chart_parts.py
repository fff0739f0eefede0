"""The two panels of the diary's picture (``charts.draw``); imported with matplotlib."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import matplotlib.dates as mdates
from matplotlib.collections import PolyCollection
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from streamemo.diary.charts import colour
from streamemo.diary.periods import Period

INK, MUTED, GRID = "#1d2330", "#6b7280", "#e3e6eb"
PLEASANT, UNPLEASANT = "#cfe8d4", "#f4d0cc"  # the mood's fill: light, never a label's colour
GAP = 0.12  # of a bar's width, on each side


def style() -> dict[str, Any]:
    return {
        "font.size": 10,
        "axes.edgecolor": GRID,
        "axes.labelcolor": MUTED,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "svg.fonttype": "none",  # text stays text in an SVG (searchable, smaller)
    }


def _x(when: float) -> float:
    return float(mdates.date2num(datetime.fromtimestamp(when)))


def shares_panel(axes: Any, found: Sequence[Period], labels: Sequence[str]) -> None:
    """Stacked bars, one per period: each label's share of the speaking time, in the
    order of ``labels`` from the top down; one collection per label."""
    bottoms = [0.0] * len(found)
    spans = [(_x(p.start), _x(p.end)) for p in found]
    spoken = sum(p.spoken_s for p in found) or 1.0
    handles = []
    for label in reversed(labels):  # the last label of the legend lies at the bottom
        boxes = []
        for i, (period, (x0, x1)) in enumerate(zip(found, spans, strict=True)):
            share = period.shares.get(label, 0.0)
            if share <= 0:
                continue
            inset = (x1 - x0) * GAP
            y0, y1 = bottoms[i], bottoms[i] + share
            boxes.append([(x0 + inset, y0), (x0 + inset, y1), (x1 - inset, y1), (x1 - inset, y0)])
            bottoms[i] = y1
        axes.add_collection(PolyCollection(boxes, facecolors=colour(label), linewidths=0))
        overall = sum(p.shares.get(label, 0.0) * p.spoken_s for p in found) / spoken
        handles.append(Patch(color=colour(label), label=f"{label}  {overall:.0%}"))
    axes.set_xlim(spans[0][0], spans[-1][1])
    axes.set_ylim(0, 1)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.set_ylabel("share of speaking time")
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    axes.legend(
        handles=handles[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
        title="emotion (overall)", alignment="left", handlelength=1.2, borderaxespad=0,
    )  # fmt: skip


def mood_panel(
    axes: Any, found: Sequence[Period], trend: Sequence[float | None], by: str, window: str
) -> None:
    """Each period's mood as a dot and its rolling mean as a line, in [-1, 1] with 0 marked
    and pleasant up; the area between the line and 0 tinted by its sign."""
    xs = [(_x(p.start) + _x(p.end)) / 2 for p in found]
    axes.set_ylim(-1.05, 1.05)
    axes.set_yticks([-1, -0.5, 0, 0.5, 1], ["−1", "", "0", "", "+1"])
    axes.axhline(0, color=MUTED, linewidth=1)
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    axes.set_ylabel("mood")
    known = [(x, m) for x, m in zip(xs, trend, strict=True) if m is not None]
    if not known:
        axes.text(0.5, 0.5, "no mood: nothing said had a fused emotion", ha="center",
                  va="center", transform=axes.transAxes, color=MUTED)  # fmt: skip
    else:
        lx, ly = zip(*known, strict=True)
        axes.fill_between(lx, 0, ly, where=[v >= 0 for v in ly], color=PLEASANT,
                          interpolate=True, linewidth=0)  # fmt: skip
        axes.fill_between(lx, 0, ly, where=[v <= 0 for v in ly], color=UNPLEASANT,
                          interpolate=True, linewidth=0)  # fmt: skip
        dots = [(x, p.mood) for x, p in zip(xs, found, strict=True) if p.mood is not None]
        axes.scatter(*zip(*dots, strict=True), s=9, color=MUTED, alpha=0.55, linewidths=0,
                     label=f"each {by}")  # fmt: skip
        axes.plot(lx, ly, color=INK, linewidth=2, label=f"mean of {window}")
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                    borderaxespad=0)  # fmt: skip
    for y, text in ((0.97, "pleasant ↑"), (0.03, "unpleasant ↓")):
        axes.text(0.005, y, text, transform=axes.transAxes, fontsize=8, color=MUTED,
                  va="top" if y > 0.5 else "bottom")  # fmt: skip
    locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
