"""The progress chart: done against pace and target per promise, as PNG (or SVG) bytes.

One panel per municipality (small multiples, stacked for a phone's screen), every panel on
the same scale of its own numbers. Each promise is a bar with its joint sub-target as a bar
of its own beneath it; the numbers and the state are written beside each bar, and a bar
that is behind or at risk is hatched as well as red, so nothing rests on colour alone. The
legend sits under the panels, where it covers no bar.
"""

from __future__ import annotations

import io
from itertools import groupby

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from medlofte_bot import texts
from medlofte_bot.domain.standing import BAD, Standing
from medlofte_bot.services.status import PromiseStatus

matplotlib.use("Agg")  # no display: charts are files sent as photos
# SVG keeps text as text (searchable, read aloud) and the same chart gives the same bytes
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "medlofte"})

TARGET, GOOD, POOR, PACE = "#dde3ea", "#2e7d32", "#c0392b", "#1f3a5f"
ROW_INCHES, PANEL_INCHES, WIDTH_INCHES = 0.42, 0.55, 7.5
TITLE_CHARS = 34  # a longer promise title is shortened between words


class _Bar:
    """One bar: a promise or its joint sub-target."""

    def __init__(self, label: str, target: int, done: int, expected: int, state: Standing,
                 words: str) -> None:
        self.label, self.target, self.done, self.expected = label, target, done, expected
        self.state, self.words = state, words


def _bars(rows: list[PromiseStatus], lang: str) -> list[_Bar]:
    bars = []
    for r in rows:
        target = r.target or 0
        bars.append(_Bar(_short(r.title), target, r.done, r.expected, r.state,
                         texts.t(f"state.{r.state}", lang, expected=r.expected,
                                 reachable=r.reachable)))
        if r.joint_target:
            bars.append(_Bar("  " + texts.t("chart.joint", lang), r.joint_target, r.joint_done,
                             r.joint_expected, r.joint_state,
                             texts.t(f"state.{r.joint_state}", lang, expected=r.joint_expected,
                                     reachable=r.joint_target)))
    return bars


def _short(title: str) -> str:
    if len(title) <= TITLE_CHARS:
        return title
    cut = title[:TITLE_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def _panel(ax: Axes, name: str, bars: list[_Bar]) -> None:
    ys = list(range(len(bars)))
    ax.barh(ys, [b.target for b in bars], color=TARGET)
    bad = [b.state in BAD for b in bars]
    drawn = ax.barh(ys, [b.done for b in bars], color=[POOR if x else GOOD for x in bad])
    for bar, x in zip(drawn, bad, strict=True):  # a shape besides the colour
        bar.set_hatch("//" if x else "")
    for y, b in zip(ys, bars, strict=True):  # the numbers and the word, not colour alone
        ax.text(max(b.done, b.target) + 0.3, y, f"{b.done}/{b.target} {b.words}",
                va="center", fontsize="small")
    ax.scatter([b.expected for b in bars], ys, marker="|", s=300, color=PACE, zorder=3)
    widest = max([b.target for b in bars] + [b.done for b in bars] + [1])
    ax.set_xlim(0, widest * 2.1)  # room for the numbers and the word right of each bar
    ax.set_yticks(ys, [b.label for b in bars], fontsize="small")
    ax.set_ylim(len(bars) - 0.5, -0.5)
    ax.set_title(name, loc="left", fontsize="medium", fontweight="bold")
    ax.tick_params(axis="x", labelsize="x-small")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def progress_chart(rows: list[PromiseStatus], lang: str, title: str, fmt: str = "png",
                   dpi: int = 80) -> bytes:
    """Small multiples, one panel per municipality: target (light), done (dark; red and
    hatched when behind or at risk), a tick where the pace says, numbers and state beside;
    ``fmt`` png or svg (text kept as text, so a page can be searched and read aloud)."""
    rows = [r for r in rows if r.target]
    panels = [(name, _bars(list(group), lang))
              for name, group in groupby(rows, key=lambda r: r.municipality)] or [("", [])]
    heights = [max(len(bars), 1) * ROW_INCHES + PANEL_INCHES for _, bars in panels]
    # a Figure of its own, not pyplot's: the year report draws in a worker thread while
    # the loop may draw a summary's chart, and pyplot's figure registry is shared state
    fig = Figure(dpi=dpi, figsize=(WIDTH_INCHES, sum(heights) + 1.3))
    axes = fig.subplots(len(panels), 1, squeeze=False,
                        gridspec_kw={"height_ratios": heights})
    for ax, (name, bars) in zip(axes[:, 0], panels, strict=True):
        if bars:
            _panel(ax, name if len(panels) > 1 else "", bars)
        else:
            ax.set_axis_off()
    fig.suptitle(title, fontsize="medium")
    legend = [Patch(color=TARGET, label=texts.t("chart.target", lang)),
              Patch(color=GOOD, label=texts.t("chart.done", lang)),
              Patch(facecolor=POOR, hatch="//", label=texts.t("chart.state_bad", lang)),
              Line2D([], [], color=PACE, marker="|", linestyle="", markersize=14,
                     label=texts.t("chart.pace", lang))]
    fig.legend(handles=legend, loc="lower center", ncol=2, fontsize="small",
               frameon=False)
    total = sum(heights) + 1.3
    fig.tight_layout(rect=(0, 0.8 / total, 1, 1 - 0.25 / total))
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()
