"""Every user-facing word, in Swedish (default) and English, and how dates are said."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from babel.dates import format_date, format_time, get_day_names

from medlofte_bot.domain.errors import Words
from medlofte_bot.texts import en, sv

CATALOGS: dict[str, dict[str, str]] = {"sv": sv.TEXTS, "en": en.TEXTS}
LANGUAGES = tuple(CATALOGS)
DEFAULT_LANGUAGE = "sv"


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text ``key`` in ``lang`` (Swedish when unknown), filled with ``params`` (a
    ``Words`` parameter is said in ``lang``)."""
    catalog = CATALOGS.get(lang, CATALOGS[DEFAULT_LANGUAGE])
    said = {k: words(v, lang) if isinstance(v, Words) else v for k, v in params.items()}
    return catalog[key].format(**said)


_DAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def words(value: Words, lang: str = DEFAULT_LANGUAGE) -> str:
    """'fredag eller lördag', '22.00–02.00': weekdays and hours as people say them."""
    if value.kind == "when":
        return when(datetime.fromisoformat(value.values[0]), lang)
    if value.kind == "weekdays":
        names = get_day_names("wide", locale=lang)
        parts = [str(names[_DAY_INDEX[code]]) for code in value.values if code in _DAY_INDEX]
    else:
        sep = "." if lang == "sv" else ":"
        parts = [window.replace(":", sep).replace("-", "–") for window in value.values]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + CATALOGS.get(lang, CATALOGS[DEFAULT_LANGUAGE])["or"] + \
        parts[-1]


def plural(key: str, count: int, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """``key.none`` (if there is one) for 0, ``key.one`` for 1, else ``key.many``, filled
    with ``count`` and ``params``: "1 ny uppgift", "2 nya uppgifter", never "ny(a)"."""
    form = "none" if count == 0 and has(f"{key}.none") else "one" if count == 1 else "many"
    return t(f"{key}.{form}", lang, count=count, **params)


def has(key: str) -> bool:
    """Whether a text exists under ``key``."""
    return key in CATALOGS[DEFAULT_LANGUAGE]


def day(d: date, lang: str = DEFAULT_LANGUAGE) -> str:
    """'fredag 12 juni' / 'Friday 12 June'."""
    return format_date(d, "EEEE d MMMM", locale=lang)


def short_day(d: date, lang: str = DEFAULT_LANGUAGE) -> str:
    """'fre 12 juni' / 'Fri 12 June'."""
    return format_date(d, "EEE d MMM", locale=lang).replace(".", "")


def clock(moment: datetime, lang: str = DEFAULT_LANGUAGE) -> str:
    """'22.00' / '22:00' (local time of the aware ``moment``)."""
    return format_time(moment, "HH.mm" if lang == "sv" else "HH:mm", locale=lang)


def when(moment: datetime, lang: str = DEFAULT_LANGUAGE) -> str:
    """'fredag 12 juni kl. 22.00' / 'Friday 12 June at 22:00' for an aware local time."""
    return t("when", lang, day=day(moment.date(), lang), time=clock(moment, lang))


def month(d: date, lang: str = DEFAULT_LANGUAGE) -> str:
    """'juni 2015' / 'June 2015'."""
    return format_date(d, "LLLL y", locale=lang)


def label(prefix: str, key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The text ``prefix.key``; keys with no text (data from a config) read as themselves."""
    full = f"{prefix}.{key}"
    return t(full, lang) if has(full) else key.replace("_", " ")


def kind(kind_id: str, lang: str = DEFAULT_LANGUAGE, title: str = "") -> str:
    """The name of a kind of task; a kind a config made up (no text) reads as its promise's
    ``title`` when given."""
    if title and not has(f"kind.{kind_id}"):
        return title
    return label("kind", kind_id, lang)


def counters(totals: Mapping[str, int], lang: str = DEFAULT_LANGUAGE) -> str:
    """'unga mötta 12, upphällningar 4' for a dict of counts."""
    return ", ".join(f"{label('counter', k, lang)} {v}" for k, v in totals.items())
