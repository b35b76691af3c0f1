"""Calendar knowledge: Swedish public days, risk nights and school days. Pure code."""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from medlofte_bot.domain.promise_set import WEEKDAYS, PromiseSet, RiskNight, School, TimeWindow

UTC = ZoneInfo("UTC")


@lru_cache(maxsize=64)
def swedish_days(year: int) -> dict[date, str]:
    """Swedish public and de facto holidays (midsommarafton, julafton, nyårsafton) by date.

    Categories and language are explicit: the package keeps the "afton" days in
    DE_FACTO and Valborg in OPTIONAL (see domain.md). Callers match on dates.
    """
    days = holidays.country_holidays(
        "SE", years=year, language="sv", categories=(holidays.PUBLIC, holidays.DE_FACTO)
    )
    return dict(sorted(days.items()))


def is_public_day_off(day: date) -> bool:
    """Whether ``day`` is a Swedish public or de facto holiday."""
    return day in swedish_days(day.year)


def _mmdd(year: int, text: str) -> date:
    month, day = (int(x) for x in text.split("-"))
    return date(year, month, day)


def _payday_weekends(year: int, payday: int) -> list[date]:
    """The Friday on or after each month's payday (pay moves to the Friday before a weekend)."""
    out = []
    for month in range(1, 13):
        pay = date(year, month, payday)
        while pay.weekday() >= 5 or is_public_day_off(pay):
            pay -= timedelta(days=1)
        out.append(pay + timedelta(days=(4 - pay.weekday()) % 7))
    return out


def risk_night_dates(rule: RiskNight, year: int) -> list[date]:
    """The dates in ``year`` on which this risk-night rule falls."""
    wd = WEEKDAYS.index(rule.weekday) if rule.weekday else None
    if rule.rule == "fixed":
        assert rule.month and rule.day
        return [date(year, rule.month, rule.day)]
    if rule.rule == "date":
        assert rule.date
        return [rule.date] if rule.date.year == year else []
    if rule.rule == "weekday_between":
        assert rule.between and wd is not None
        first, last = _mmdd(year, rule.between[0]), _mmdd(year, rule.between[1])
        day = first + timedelta(days=(wd - first.weekday()) % 7)
        return [day] if day <= last else []
    if rule.rule == "last_weekday_of_month":
        assert rule.month and wd is not None
        last = date(year, rule.month, _cal.monthrange(year, rule.month)[1])
        return [last - timedelta(days=(last.weekday() - wd) % 7)]
    if rule.rule == "nth_weekday_of_month":
        assert rule.month and rule.n and wd is not None
        first = date(year, rule.month, 1)
        day = first + timedelta(days=(wd - first.weekday()) % 7 + 7 * (rule.n - 1))
        return [day] if day.month == rule.month else []
    return _payday_weekends(year, rule.payday)


@dataclass(frozen=True)
class RiskNightDate:
    """One risk night: its date, its name(s) and its hours."""

    day: date
    name: str
    hours: TimeWindow


def risk_nights(ps: PromiseSet, year: int) -> list[RiskNightDate]:
    """All risk nights of the year, one per date; rules that meet on a date are merged."""
    by_day: dict[date, list[tuple[str, TimeWindow]]] = {}
    for rule in ps.risk_nights:
        for day in risk_night_dates(rule, year):
            by_day.setdefault(day, []).append((rule.name, rule.hours or ps.risk_night_hours))
    out = []
    for day in sorted(by_day):
        entries = by_day[day]
        names = " / ".join(dict.fromkeys(name for name, _ in entries))
        longest = max((h for _, h in entries), key=lambda h: h.minutes)
        out.append(RiskNightDate(day, names, longest))
    return out


def school_days(school: School, first: date, last: date) -> list[date]:
    """Weekdays inside a term, outside breaks and public days, between first and last."""
    out = []
    day = first
    while day <= last:
        if (
            day.weekday() < 5
            and any(day in term for term in school.terms)
            and not any(day in b for b in school.breaks)
            and not is_public_day_off(day)
        ):
            out.append(day)
        day += timedelta(days=1)
    return out


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware local instant for a wall time; a time skipped by DST moves forward."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def plus_minutes(moment: datetime, minutes: int) -> datetime:
    """``moment`` plus elapsed minutes (not wall-clock minutes), in the same zone."""
    tz = moment.tzinfo
    return (moment.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(tz)
