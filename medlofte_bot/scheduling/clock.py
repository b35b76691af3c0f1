"""Clocks: the one place that reads the wall clock. Everything else is handed ``now``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from medlofte_bot.domain.clock import Clock
from medlofte_bot.domain.errors import ConfigError

__all__ = ["Clock", "ManualClock", "SimulatedClock", "SystemClock", "clock_from_setting",
           "seconds_counter"]


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant, aware UTC."""
        return datetime.now(UTC)

    def real_seconds(self, clock_seconds: float) -> float:
        """Real and clock seconds are the same."""
        return clock_seconds


@dataclass
class SimulatedClock:
    """A clock that starts at ``start`` and runs ``speed`` times faster than real time."""

    start: datetime
    speed: float = 1.0
    _origin: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        """The simulated instant, aware UTC."""
        elapsed = (time.monotonic() - self._origin) * self.speed
        return (self.start + timedelta(seconds=elapsed)).astimezone(UTC)

    def real_seconds(self, clock_seconds: float) -> float:
        """Real seconds for a span of simulated seconds."""
        return clock_seconds / self.speed


@dataclass
class ManualClock:
    """A clock that moves only when told to: for tests and step-by-step replays."""

    current: datetime

    def now(self) -> datetime:
        """The set instant, aware UTC."""
        return self.current.astimezone(UTC)

    def real_seconds(self, _clock_seconds: float) -> float:
        """No real time needs to pass."""
        return 0.0

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keyword arguments; returns the new instant."""
        self.current = self.current + timedelta(**delta)
        return self.now()


def seconds_counter(clock: Clock) -> Callable[[], float]:
    """Seconds that pass at the clock's pace, for rates (the chat's flood rule): the system's
    monotonic counter for the real clock, the clock's own instants for a simulated or manual
    one, so a year played in seconds is not a flood."""
    if isinstance(clock, SystemClock):
        return time.monotonic
    return lambda: clock.now().timestamp()


_SPEC = re.compile(r"^(?P<start>[^x@]+?)(?:x(?P<speed>\d+(?:\.\d+)?))?"
                   r"(?:@(?P<anchor>\d+(?:\.\d+)?))?$")


def clock_from_setting(value: str | None) -> Clock:
    """``MEDLOFTE_CLOCK``: empty for the real clock, or ``START[xSPEED][@EPOCH]`` (ISO start
    with offset).

    Example: ``2015-01-01T06:00+01:00x3600`` starts on New Year's morning and runs an
    hour per real second. The clock reads START when the process starts, or, with
    ``@EPOCH`` (Unix seconds), at that real instant: several processes given the same
    setting then share one played clock, however long each took to start.
    """
    if not value:
        return SystemClock()
    match = _SPEC.match(value.strip())
    try:
        if not match:
            raise ValueError(value)
        start = datetime.fromisoformat(match["start"])
        if start.tzinfo is None:
            raise ValueError(value)
        speed = float(match["speed"] or 1)
        if speed <= 0:
            raise ValueError(value)
    except ValueError as exc:
        raise ConfigError("clock_invalid", value=value) from exc
    clock = SimulatedClock(start.astimezone(UTC), speed)
    if match["anchor"]:
        clock._origin = time.monotonic() - (time.time() - float(match["anchor"]))
    return clock
