"""Quiet hours are wall-clock hours in the municipality's zone (issue 9, point 4)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from medlofte_bot.domain.policy import Viewer, quiet_hours_for
from medlofte_bot.domain.promise_set import TimeWindow, default_quiet_windows
from medlofte_bot.domain.quiet import NIGHT, held_until, quiet_end

TZ = ZoneInfo("Europe/Stockholm")
PARTNERS = TimeWindow(start=time(21, 0), end=time(7, 0))


def test_a_message_due_late_in_the_evening_waits_until_seven_the_next_morning() -> None:
    assert quiet_end(datetime(2015, 6, 5, 22, 30, tzinfo=TZ), PARTNERS, TZ) == \
        datetime(2015, 6, 6, 7, 0, tzinfo=TZ)


def test_a_message_due_after_midnight_waits_until_seven_the_same_morning() -> None:
    assert quiet_end(datetime(2015, 6, 6, 3, 0, tzinfo=TZ), PARTNERS, TZ) == \
        datetime(2015, 6, 6, 7, 0, tzinfo=TZ)


def test_the_edges_of_the_quiet_hours() -> None:
    assert quiet_end(datetime(2015, 6, 5, 20, 59, tzinfo=TZ), PARTNERS, TZ) is None
    assert quiet_end(datetime(2015, 6, 5, 21, 0, tzinfo=TZ), PARTNERS, TZ) is not None
    assert quiet_end(datetime(2015, 6, 6, 7, 0, tzinfo=TZ), PARTNERS, TZ) is None


def test_the_short_and_the_long_night_end_at_seven_on_the_clock() -> None:
    """29 March 2015 has no 02:00-03:00; 25 October has it twice."""
    assert quiet_end(datetime(2015, 3, 28, 23, 0, tzinfo=TZ), PARTNERS, TZ) == \
        datetime(2015, 3, 29, 5, 0, tzinfo=UTC)
    assert quiet_end(datetime(2015, 10, 24, 23, 0, tzinfo=TZ), PARTNERS, TZ) == \
        datetime(2015, 10, 25, 6, 0, tzinfo=UTC)
    # in the hour that comes twice, both readings wait for the same 07:00
    first = datetime(2015, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2015, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert quiet_end(first, PARTNERS, TZ) == quiet_end(second, PARTNERS, TZ) == \
        datetime(2015, 10, 25, 6, 0, tzinfo=UTC)


def test_a_window_within_one_day_holds_only_inside_it() -> None:
    lunch = TimeWindow(start=time(11, 0), end=time(13, 0))
    assert quiet_end(datetime(2015, 6, 5, 12, 0, tzinfo=TZ), lunch, TZ) == \
        datetime(2015, 6, 5, 13, 0, tzinfo=TZ)
    assert quiet_end(datetime(2015, 6, 5, 14, 0, tzinfo=TZ), lunch, TZ) is None


def test_a_task_that_starts_before_the_morning_cannot_wait() -> None:
    evening = datetime(2015, 6, 5, 21, 30, tzinfo=TZ)
    assert held_until(evening, PARTNERS, TZ, datetime(2015, 6, 5, 22, 0, tzinfo=TZ)) is None
    assert held_until(evening, PARTNERS, TZ, datetime(2015, 6, 6, 22, 0, tzinfo=TZ)) == \
        datetime(2015, 6, 6, 7, 0, tzinfo=TZ)
    assert held_until(evening, None, TZ) is None


def test_partners_have_quiet_hours_by_default_and_police_only_for_notices() -> None:
    windows = default_quiet_windows()
    assert quiet_hours_for(Viewer("partner"), windows) == PARTNERS
    assert quiet_hours_for(Viewer("officer"), windows) is None
    assert quiet_hours_for(Viewer("coordinator"), windows, NIGHT) == NIGHT


@given(st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2016, 12, 31),
                    timezones=st.just(UTC)))
def test_a_held_message_goes_at_seven_local_within_a_day(at: datetime) -> None:
    end = quiet_end(at, PARTNERS, TZ)
    if end is None:
        assert time(7, 0) <= at.astimezone(TZ).time() < time(21, 0)
        return
    assert end.astimezone(TZ).time() == time(7, 0)
    assert at < end and (end - at).total_seconds() <= 11 * 3600


def test_the_file_sets_a_roles_quiet_hours_or_none_and_refuses_a_bad_value() -> None:
    from pathlib import Path

    import pytest
    from pydantic import ValidationError

    from medlofte_bot.configuration import load_promise_set
    from medlofte_bot.domain.promise_set import PromiseSet

    base = load_promise_set(Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml")
    data = base.promise_set.model_dump(mode="json")
    data["quiet_hours"] = {"officer": "22:00-06:00", "partner": "none"}
    windows = PromiseSet.model_validate(data).quiet_windows()
    assert windows == {"officer": TimeWindow(start=time(22, 0), end=time(6, 0))}
    data["quiet_hours"] = {"partner": "kväll"}
    with pytest.raises(ValidationError, match=r"quiet_hours\.partner"):
        PromiseSet.model_validate(data)
