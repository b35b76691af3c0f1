"""The progress chart: done against pace and target per promise, as PNG (or SVG) bytes."""

from __future__ import annotations

import io

import matplotlib
from matplotlib.figure import Figure

from medlofte_bot import texts
from medlofte_bot.domain.standing import BAD
from medlofte_bot.services.status import PromiseStatus

matplotlib.use("Agg")  # no display: charts are files sent as photos
# SVG keeps text as text (searchable, read aloud) and the same chart gives the same bytes
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "medlofte"})


def progress_chart(rows: list[PromiseStatus], lang: str, title: str, fmt: str = "png",
                   dpi: int = 80) -> bytes:
    """Horizontal bars: target (light), done (dark), and a tick where the pace says; ``fmt``
    png or svg (text kept as text, so the page can be searched and read aloud)."""
    rows = [r for r in rows if r.target]
    # a Figure of its own, not pyplot's: the year report draws in a worker thread while
    # the loop may draw a summary's chart, and pyplot's figure registry is shared state
    fig = Figure(figsize=(7, 0.6 * len(rows) + 1.4), dpi=dpi)
    ax = fig.subplots()
    names = [r.title for r in rows]
    ys = list(range(len(rows)))
    ax.barh(ys, [r.target or 0 for r in rows], color="#dde3ea",
            label=texts.t("chart.target", lang))
    bad = [r.state in BAD for r in rows]
    bars = ax.barh(ys, [r.done for r in rows],
                   color=["#c0392b" if b else "#2e7d32" for b in bad],
                   label=texts.t("chart.done", lang))
    for bar, b in zip(bars, bad, strict=True):  # a shape besides the colour
        bar.set_hatch("//" if b else "")
    for y, r in zip(ys, rows, strict=True):  # the numbers and the word, not colour alone
        ax.text(max(r.done, r.target or 0) + 0.2, y, f"{r.done}/{r.target} "
                + texts.t(f"state.{r.state}", lang, expected=r.expected,
                          reachable=r.reachable), va="center", fontsize="small")
    ax.scatter([r.expected for r in rows], ys, marker="|", s=400, color="#1f3a5f",
               label=texts.t("chart.pace", lang), zorder=3)
    widest = max([r.target or 0 for r in rows] + [r.done for r in rows] + [1])
    ax.set_xlim(0, widest * 1.9)  # room for the numbers and the word right of each bar
    ax.set_yticks(ys, names)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()
