"""The progress chart: done against pace and target per promise, as PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display: charts are files sent as photos

import matplotlib.pyplot as plt

from medlofte_bot import texts
from medlofte_bot.services.status import PromiseStatus


def progress_chart(rows: list[PromiseStatus], lang: str, title: str) -> bytes:
    """Horizontal bars: target (light), done (dark), and a tick where the pace says."""
    rows = [r for r in rows if r.target]
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(rows) + 1.4), dpi=80)
    try:
        names = [r.title for r in rows]
        ys = list(range(len(rows)))
        ax.barh(ys, [r.target or 0 for r in rows], color="#dde3ea",
                label=texts.t("chart.target", lang))
        colors = ["#c0392b" if r.state in ("behind", "at_risk") else "#2e7d32" for r in rows]
        ax.barh(ys, [r.done for r in rows], color=colors, label=texts.t("chart.done", lang))
        ax.scatter([r.expected for r in rows], ys, marker="|", s=400, color="#1f3a5f",
                   label=texts.t("chart.pace", lang), zorder=3)
        ax.set_yticks(ys, names)
        ax.invert_yaxis()
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)
