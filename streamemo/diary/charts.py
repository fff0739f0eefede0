"""The diary as a picture: the share of each emotion per period (stacked bars) over the
mood's trend (a rolling mean, pleasant up), for ``streamemo diary plot``.

A long span is drawn by week or by month, so that it stays readable (and quick: one
collection of bars per emotion, not a patch per bar). matplotlib is imported by
``draw`` only: the other diary commands and the diary's web page never pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from streamemo.diary.periods import Period, periods
from streamemo.diary.store import Diary

# the dashboard's colours (streamemo/web/dashboard.html), the console's hues
COLOURS = {
    "joy": "#2e9e44", "surprise": "#e0a800", "neutral": "#8a8f98", "disgust": "#16a3a3",
    "fear": "#8a47c2", "anger": "#d43a2f", "sadness": "#2f6fd0",
}  # fmt: skip
ORDER = tuple(COLOURS)  # top of the stack (and of the legend) first: pleasant to unpleasant
SPARE = ("#c2185b", "#795548", "#607d8b", "#f57c00", "#7cb342", "#5c6bc0")  # other labels
GRAIN = (("day", 92), ("week", 2 * 366))  # the finest grain whose span fits, else month
WINDOW = {"day": (7, "7 days"), "week": (28, "4 weeks"), "month": (91, "3 months")}
DAY_S = 86_400.0
LAYOUT = {"height_ratios": [3, 1.5], "left": 0.065, "right": 0.83, "top": 0.88,
          "bottom": 0.08, "hspace": 0.1}  # fmt: skip


def chart_periods(
    diary: Diary, since: float | None, until: float | None
) -> tuple[str, list[Period]]:
    """The grain that keeps the span readable, and the periods at that grain."""
    first, last = diary._db.execute(
        "SELECT min(started_at), max(started_at) FROM entries"
        " WHERE started_at >= ? AND started_at < ?",
        (
            since if since is not None else float("-inf"),
            until if until is not None else float("inf"),
        ),
    ).fetchone()
    if first is None:
        return "day", []
    days = (last - first) / DAY_S
    by = next((name for name, most in GRAIN if days <= most), "month")
    return by, periods(diary, by, since, until)


def colour(label: str) -> str:
    if label in COLOURS:
        return COLOURS[label]
    return SPARE[sum(map(ord, label)) % len(SPARE)]


def labels_of(found: Sequence[Period]) -> list[str]:
    """Every label in the periods, in stacking order (other models' labels before neutral)."""
    seen = {label for p in found for label in p.shares}
    others = sorted(seen - set(ORDER))
    order = [*ORDER[:2], *others, *ORDER[2:]]
    return [label for label in order if label in seen]


def rolling_mood(found: Sequence[Period], by: str) -> list[float | None]:
    """Each period's mood averaged with the periods of the window before it, weighted by
    speaking time (None where no mood is known yet)."""
    window = WINDOW[by][0] * DAY_S
    out: list[float | None] = []
    for i, period in enumerate(found):
        total = weight = 0.0
        for other in found[: i + 1]:
            if other.mood is not None and other.start > period.start - window + 1:
                total += other.mood * other.spoken_s
                weight += other.spoken_s
        out.append(round(total / weight, 4) if weight else None)
    return out


def title(found: Sequence[Period]) -> str:
    first = datetime.fromtimestamp(found[0].start)
    last = datetime.fromtimestamp(found[-1].end - 1)
    return f"How you felt, {_date(first)} – {_date(last)}"


def subtitle(found: Sequence[Period], by: str) -> str:
    entries = sum(p.entries for p in found)
    minutes = round(sum(p.spoken_s for p in found) / 60)
    spoken = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    words = sum(p.words for p in found)
    return (
        f"{entries} {'entry' if entries == 1 else 'entries'} · {spoken} spoken · "
        f"{words:,} words · one bar per {by}"
    )


def _date(when: datetime) -> str:
    return f"{when.day} {when:%b %Y}"


def draw(found: Sequence[Period], by: str, out: Any, fmt: str) -> None:
    """The picture of ``found`` (oldest first, not empty) written to ``out`` (a file
    object) as ``fmt`` ("png" or "svg")."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from streamemo.diary.chart_parts import mood_panel, shares_panel, style

    with matplotlib.rc_context(style()):
        figure = Figure(figsize=(12, 6.75), dpi=100)
        # fixed margins, room for the legends on the right: a layout engine costs a draw
        top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw=LAYOUT)
        shares_panel(top, found, labels_of(found))
        mood_panel(bottom, found, rolling_mood(found, by), by, WINDOW[by][1])
        figure.suptitle(title(found), x=0.012, y=0.975, ha="left", fontsize=15, fontweight="bold")
        figure.text(0.013, 0.915, subtitle(found, by), fontsize=10, color="#6b7280")
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(out, format=fmt, metadata=metadata, facecolor="white")


def write(found: Sequence[Period], by: str, path: Path) -> None:
    """Draw into a private temporary file beside ``path``, then put it in place: the file
    is its owner's only (0600), and a failed draw leaves whatever was there."""
    import os
    import tempfile

    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".plot-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            draw(found, by, out, path.suffix[1:].lower())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
