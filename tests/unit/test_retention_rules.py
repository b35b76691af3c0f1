"""The retention rules' plain parts: month arithmetic, when a year's notes fall due, the
settings and the promise-set key, which promise sets are in force."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.errors import ConfigError
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.years import in_force, new_year_command
from medlofte_bot.services.records import add_months, notes_clear_from
from medlofte_bot.settings import load_settings

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"


def test_months_are_calendar_months_and_keep_the_day_where_it_exists() -> None:
    assert add_months(datetime(2015, 1, 31, tzinfo=STOCKHOLM), 1) == \
        datetime(2015, 2, 28, tzinfo=STOCKHOLM)
    assert add_months(datetime(2015, 3, 1, tzinfo=STOCKHOLM), -12) == \
        datetime(2014, 3, 1, tzinfo=STOCKHOLM)
    assert add_months(datetime(2015, 11, 15, tzinfo=STOCKHOLM), 14) == \
        datetime(2017, 1, 15, tzinfo=STOCKHOLM)


def test_notes_fall_due_the_kept_months_after_new_years_night() -> None:
    assert notes_clear_from(2015, STOCKHOLM, 24) == datetime(2018, 1, 1, tzinfo=STOCKHOLM)
    assert notes_clear_from(2015, STOCKHOLM, 0) == datetime(2016, 1, 1, tzinfo=STOCKHOLM)


def test_names_kept_months_setting() -> None:
    assert load_settings({}).names_kept_months == 12
    assert load_settings({"MEDLOFTE_NAMES_KEPT_MONTHS": "6"}).names_kept_months == 6
    assert load_settings({"MEDLOFTE_NAMES_KEPT_MONTHS": "never"}).names_kept_months is None
    with pytest.raises(ConfigError) as caught:
        load_settings({"MEDLOFTE_NAMES_KEPT_MONTHS": "ett år"})
    assert caught.value.params["variable"] == "MEDLOFTE_NAMES_KEPT_MONTHS"


def test_notes_kept_months_is_optional_and_never_negative() -> None:
    ps = load_promise_set(CONFIG).promise_set
    assert ps.notes_kept_months is None
    data = ps.model_dump()
    with pytest.raises(ValueError, match="notes_kept_months"):
        PromiseSet.model_validate({**data, "notes_kept_months": -1})
    assert PromiseSet.model_validate({**data, "notes_kept_months": 24}).notes_kept_months == 24


def test_a_set_is_in_force_in_its_own_year_only() -> None:
    ps = load_promise_set(CONFIG).promise_set
    assert in_force([ps], datetime(2015, 12, 31, 23, 30, tzinfo=STOCKHOLM)) == [ps]
    assert in_force([ps], datetime(2016, 1, 1, 0, 30, tzinfo=STOCKHOLM)) == []
    assert new_year_command([ps], datetime(2026, 11, 29, tzinfo=STOCKHOLM)) == \
        "python -m medlofte_bot new-year config/arvidsjaur-2015.toml 2026"
