"""Whether a moved task still fits its promise's days and hours. Pure."""

from __future__ import annotations

from datetime import datetime

from medlofte_bot.domain.promise_set import WEEKDAYS, Promise, PromiseSet, TimeWindow
from medlofte_bot.planning.calendar import school_days


def _inside(window: TimeWindow, start: datetime, minutes: int) -> bool:
    begin = window.start.hour * 60 + window.start.minute
    at = start.hour * 60 + start.minute
    offset = (at - begin) % (24 * 60)
    return offset + minutes <= window.minutes


def fits(ps: PromiseSet, p: Promise, start: datetime, minutes: int) -> list[str]:
    """Why ``start`` (aware local) does not fit the promise; empty when it fits."""
    problems = []
    day = start.date()
    if WEEKDAYS[day.weekday()] not in p.weekdays:
        problems.append("weekday")
    if p.period and day not in p.period:
        problems.append("period")
    if p.school_days_only and ps.school and day not in school_days(ps.school, day, day):
        problems.append("school_day")
    windows = list(ps.school.windows.values()) if p.use_school_windows and ps.school else p.hours
    if windows and not any(_inside(w, start, minutes) for w in windows):
        problems.append("hours")
    return problems


def allowed_hours(ps: PromiseSet, p: Promise) -> list[str]:
    """The promise's windows, e.g. ['22:00-02:00']."""
    windows = list(ps.school.windows.values()) if p.use_school_windows and ps.school else p.hours
    return [str(w) for w in windows]
