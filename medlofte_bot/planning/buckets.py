"""Where a promise's tasks may go: candidate days and the buckets (year, term, week) they fill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from medlofte_bot.domain.promise_set import WEEKDAYS, DateRange, Promise, PromiseSet
from medlofte_bot.planning.calendar import school_days


@dataclass(frozen=True)
class Bucket:
    """A stretch of the year that must hold ``count`` tasks, with its candidate days."""

    first: date
    last: date
    count: int
    days: tuple[date, ...]


def period(p: Promise, year: int) -> DateRange:
    """The promise's period, the whole year by default."""
    return p.period or DateRange(start=date(year, 1, 1), end=date(year, 12, 31))


def candidate_days(ps: PromiseSet, p: Promise, year: int) -> list[date]:
    """The days a task of this promise may start on."""
    span = period(p, year)
    allowed = {WEEKDAYS.index(w) for w in p.weekdays}
    if p.school_days_only and ps.school:
        days = school_days(ps.school, span.start, span.end)
    else:
        days = [span.start + timedelta(days=i) for i in range((span.end - span.start).days + 1)]
    return [d for d in days if d.weekday() in allowed]


def _spans(ps: PromiseSet, p: Promise, year: int) -> list[tuple[date, date]]:
    span = period(p, year)
    per = p.frequency.per if p.frequency else "year"
    if per == "year":
        return [(span.start, span.end)]
    if per == "term":
        assert ps.school is not None
        return [(max(t.start, span.start), min(t.end, span.end)) for t in ps.school.terms
                if t.end >= span.start and t.start <= span.end]
    out = []
    day = span.start
    while day <= span.end:
        if per == "week":
            end = day + timedelta(days=6 - day.weekday())
        else:
            end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        out.append((day, min(end, span.end)))
        day = end + timedelta(days=1)
    return out


def buckets(ps: PromiseSet, p: Promise, year: int) -> list[Bucket]:
    """The promise's buckets with at least one candidate day (empty ones cannot count)."""
    days = candidate_days(ps, p, year)
    count = p.frequency.count if p.frequency else (p.target or 0)
    out = []
    for first, last in _spans(ps, p, year):
        inside = tuple(d for d in days if first <= d <= last)
        if inside and count:
            out.append(Bucket(first, last, count, inside))
    return out
