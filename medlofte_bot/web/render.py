"""The web view's words and drawings: the Jinja2 environment (autoescape on), the helpers
templates call (texts in the member's language), and the area chart as inline SVG."""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from medlofte_bot import texts
from medlofte_bot.domain.standing import BAD
from medlofte_bot.services.status import PromiseStatus

ENV = Environment(loader=PackageLoader("medlofte_bot.web", "templates"),
                  autoescape=select_autoescape(default=True), trim_blocks=True,
                  lstrip_blocks=True)
_PROLOG = re.compile(r"\A.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_CHARTS: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_CHARTS_LOCK = threading.Lock()
CHARTS_KEPT = 128


def words(lang: str) -> dict[str, Callable[..., str]]:
    """What every template calls to say things in ``lang``."""
    return {
        "t": lambda key, **kw: texts.t(key, lang, **kw),
        "plural": lambda key, n, **kw: texts.plural(key, n, lang, **kw),
        "when": lambda moment: texts.when(moment, lang),
        "day": lambda d: texts.day(d if isinstance(d, date) and not isinstance(d, datetime)
                                   else d.date(), lang),
        "clock": lambda moment: texts.clock(moment, lang),
        "kind": lambda kind, title="": texts.kind(kind, lang, title),
        "label": lambda prefix, key: texts.label(prefix, key, lang),
        "month": lambda d: texts.month(d, lang),
    }


def page(template: str, lang: str, **values: Any) -> str:
    """A whole page from ``template`` in ``lang``."""
    return ENV.get_template(template).render(lang=lang, **words(lang), **values)


def state_word(row: PromiseStatus, lang: str, joint: bool = False) -> str:
    """A promise's (or its joint part's) state in words, as /status says it."""
    state = row.joint_state if joint else row.state
    return texts.t(f"state.{state}", lang, expected=row.joint_expected if joint else row.expected,
                   reachable=row.joint_target if joint else row.reachable)


def is_bad(row: PromiseStatus, joint: bool = False) -> bool:
    """Behind, at risk or not fulfilled: marked in words and by a sign, not colour alone."""
    return (row.joint_state if joint else row.state) in BAD


def _chart_key(rows: Sequence[PromiseStatus], lang: str, title: str) -> tuple[Any, ...]:
    """What the chart draws, and nothing else: equal keys draw equal charts."""
    return (lang, title, tuple((r.municipality, r.promise, r.title, r.target, r.done,
                                r.expected, r.joint_target, r.joint_done, r.joint_expected,
                                r.reachable, r.over) for r in rows))


def chart_svg(rows: Sequence[PromiseStatus], lang: str, title: str, desc: str) -> str:
    """The progress chart (views/chart.py) as inline SVG with a title and a description for
    screen readers; the same numbers drawn twice are drawn once (matplotlib takes a tenth
    of a second or more: the area page is asked for more often than its numbers change)."""
    key = _chart_key(rows, lang, title)
    with _CHARTS_LOCK:
        found = _CHARTS.get(key)
        if found is not None:
            _CHARTS.move_to_end(key)
    if found is None:
        from medlofte_bot.views.chart import progress_chart  # matplotlib: on the first chart

        svg = progress_chart(list(rows), lang, title, fmt="svg").decode("utf-8")
        found = _METADATA.sub("", _PROLOG.sub("", svg, count=1), count=1)
        with _CHARTS_LOCK:
            _CHARTS[key] = found
            while len(_CHARTS) > CHARTS_KEPT:
                _CHARTS.popitem(last=False)
    labelled = found.replace(
        "<svg ", '<svg role="img" aria-labelledby="chart-title chart-desc" ', 1)
    head = (f'<title id="chart-title">{html.escape(title)}</title>'
            f'<desc id="chart-desc">{html.escape(desc)}</desc>')
    end = labelled.index(">", labelled.index("<svg ")) + 1
    return labelled[:end] + head + labelled[end:]
