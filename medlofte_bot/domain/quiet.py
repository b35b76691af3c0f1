"""Quiet hours: a message to someone in their quiet hours waits for the end of them, unless
its task starts before then. Pure: local wall-clock hours, so a daylight-saving night is
an hour shorter or longer, and the morning is still 07:00 on the clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from medlofte_bot.domain.promise_set import TimeWindow

# the night a notice that can wait (a task missed, thanks, a move) is kept out of, for
# roles with no quiet hours of their own; also the partners' default
NIGHT = TimeWindow(start=time(21, 0), end=time(7, 0))


def quiet_end(at: datetime, window: TimeWindow, tz: ZoneInfo) -> datetime | None:
    """The end of the quiet hours (aware UTC) if ``at`` lies inside them, else None."""
    start, end = window.start, window.end
    if start == end:
        return None
    local = at.astimezone(tz)
    now = local.time()
    day = local.date()
    if start < end:
        inside = start <= now < end
    else:  # crosses midnight: 21:00-07:00
        inside = now >= start or now < end
        if now >= start:
            day += timedelta(days=1)
    if not inside:
        return None
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


def held_until(at: datetime, window: TimeWindow | None, tz: ZoneInfo,
               task_start: datetime | None = None) -> datetime | None:
    """When a message due ``at`` should go instead, or None to send it now: the end of the
    quiet hours, unless its task starts before then (then it cannot wait)."""
    if window is None:
        return None
    end = quiet_end(at, window, tz)
    if end is None or (task_start is not None and task_start <= end):
        return None
    return end
