"""MEDLOFTE_CLOCK: a start instant and a speed; the real clock by default."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from medlofte_bot.domain.errors import ConfigError
from medlofte_bot.scheduling.clock import (
    ManualClock,
    SimulatedClock,
    SystemClock,
    clock_from_setting,
    seconds_counter,
)


def test_no_setting_means_the_real_clock() -> None:
    clock = clock_from_setting("")
    assert isinstance(clock, SystemClock)
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 1


def test_a_start_and_speed_make_a_fast_simulated_clock() -> None:
    clock = clock_from_setting("2015-01-01T06:00+01:00x3600")
    assert isinstance(clock, SimulatedClock)
    first = clock.now()
    assert first.tzinfo is not None and first.utcoffset() == timedelta(0)
    assert first - datetime(2015, 1, 1, 5, 0, tzinfo=UTC) < timedelta(minutes=5)
    time.sleep(0.05)
    assert clock.now() - first >= timedelta(seconds=150)  # 0.05 s real x 3600
    assert clock.real_seconds(3600) == pytest.approx(1.0)


def test_processes_given_one_anchored_setting_share_one_played_clock() -> None:
    """START read at the real instant @EPOCH, whenever each process reads the setting."""
    anchor = time.time() - 2.0  # the setting was written two real seconds ago
    setting = f"2015-01-02T09:00+01:00x60@{anchor:.3f}"
    early = clock_from_setting(setting)
    time.sleep(0.1)
    late = clock_from_setting(setting)  # a process that started later
    assert abs((early.now() - late.now()).total_seconds()) < 1.0
    played = late.now() - datetime(2015, 1, 2, 8, 0, tzinfo=UTC)
    assert timedelta(seconds=115) < played < timedelta(seconds=140)  # ~2.1 s x 60


@pytest.mark.parametrize("bad", ["2015-01-01T06:00", "yesterday", "2015-01-01T06:00+01:00x0",
                                 "2015-01-01T06:00+01:00x-2", "2015-01-01T06:00+01:00x60@soon"])
def test_a_clock_setting_that_cannot_be_read_says_what_would_be_right(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        clock_from_setting(bad)
    assert err.value.key == "clock_invalid"


def test_a_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2015, 3, 29, 0, 30, tzinfo=UTC))
    assert clock.now() == clock.now()
    assert clock.advance(hours=1) == datetime(2015, 3, 29, 1, 30, tzinfo=UTC)
    assert clock.real_seconds(100) == 0.0


def test_the_flood_rule_counts_seconds_at_the_clock_s_pace() -> None:
    """A year played in seconds is not a flood: simulated and manual clocks give their time."""
    assert seconds_counter(SystemClock()) is time.monotonic
    manual = ManualClock(datetime(2015, 6, 12, 20, tzinfo=UTC))
    counter = seconds_counter(manual)
    before = counter()
    manual.advance(minutes=1)
    assert counter() - before == 60.0
