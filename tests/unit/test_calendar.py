"""Calendar knowledge: risk-night rules, school days and DST-safe local instants."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.promise_set import DateRange, PromiseSet, RiskNight, School
from medlofte_bot.planning.calendar import (
    local_instant,
    plus_minutes,
    risk_night_dates,
    risk_nights,
    school_days,
)

CONFIG = Path(__file__).resolve().parents[2] / "config" / "arvidsjaur-2015.toml"
TZ = ZoneInfo("Europe/Stockholm")
UTC = ZoneInfo("UTC")
YEARS = (2015, 2016, 2024, 2025)
FRI, SAT = 4, 5


@pytest.fixture(scope="module")
def ps() -> PromiseSet:
    return load_promise_set(CONFIG).promise_set


def _rule(ps: PromiseSet, name: str) -> RiskNight:
    return next(r for r in ps.risk_nights if r.name == name)


def _days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    return [first + timedelta(days=i) for i in range(31) if (first + timedelta(days=i)).month
            == month]


def _elapsed_minutes(a: datetime, b: datetime) -> float:
    # aware datetimes sharing one tzinfo subtract as wall clocks: go through UTC
    return (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds() / 60


# --- risk-night rules ---------------------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_valborg_is_30_april_every_year(ps: PromiseSet, year: int) -> None:
    assert risk_night_dates(_rule(ps, "Valborgsmässoafton"), year) == [date(year, 4, 30)]


@pytest.mark.parametrize("year", YEARS)
def test_midsommarafton_is_the_friday_19_to_25_june_and_matches_holidays_de_facto(
    ps: PromiseSet, year: int
) -> None:
    (day,) = risk_night_dates(_rule(ps, "Midsommarafton"), year)
    assert day.weekday() == FRI
    assert date(year, 6, 19) <= day <= date(year, 6, 25)
    de_facto = holidays.country_holidays("SE", years=year, categories=(holidays.DE_FACTO,))
    assert [d for d in de_facto if d.month == 6] == [day]


@pytest.mark.parametrize("year", YEARS)
def test_allhelgona_is_the_saturday_31_oct_to_6_nov_and_matches_holidays_public(
    ps: PromiseSet, year: int
) -> None:
    (day,) = risk_night_dates(_rule(ps, "Allhelgonahelgen"), year)
    assert day.weekday() == SAT
    public = holidays.country_holidays("SE", years=year, categories=(holidays.PUBLIC,))
    in_range = [d for d in public if date(year, 10, 31) <= d <= date(year, 11, 6)]
    assert in_range == [day]


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2015, date(2015, 8, 29)), (2016, date(2016, 8, 27)), (2024, date(2024, 8, 31)),
     (2025, date(2025, 8, 30))],
)
def test_storstamningen_is_the_last_saturday_of_august(
    ps: PromiseSet, year: int, expected: date
) -> None:
    reference = max(d for d in _days(year, 8) if d.weekday() == SAT)
    assert reference == expected
    assert risk_night_dates(_rule(ps, "Storstämningen i Lappstaden"), year) == [expected]


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2015, date(2015, 7, 18)), (2016, date(2016, 7, 16)), (2024, date(2024, 7, 20)),
     (2025, date(2025, 7, 19))],
)
def test_hemvandarhelgen_is_the_third_saturday_of_july(
    ps: PromiseSet, year: int, expected: date
) -> None:
    reference = [d for d in _days(year, 7) if d.weekday() == SAT][2]
    assert reference == expected
    assert risk_night_dates(_rule(ps, "Hemvändarhelgen"), year) == [expected]


def test_nth_weekday_of_month_gives_nothing_when_the_month_has_no_fifth_one() -> None:
    rule = RiskNight(name="x", rule="nth_weekday_of_month", weekday="sat", month=2, n=5)
    assert risk_night_dates(rule, 2015) == []  # February 2015 has four Saturdays


def _payday_reference(year: int, month: int, payday: int = 25) -> date:
    pay = date(year, month, payday)
    while pay.weekday() >= 5:  # weekend: paid the weekday before
        pay -= timedelta(days=1)
    return pay + timedelta(days=(FRI - pay.weekday()) % 7)  # the Friday on or after pay


@pytest.mark.parametrize("year", YEARS)
def test_payday_weekend_is_the_friday_on_or_after_pay_day_moved_off_weekends(year: int) -> None:
    rule = RiskNight(name="Lönehelg", rule="payday_weekend")
    got = risk_night_dates(rule, year)
    assert got == [_payday_reference(year, m) for m in range(1, 13)]
    assert all(d.weekday() == FRI for d in got)


def test_payday_weekend_known_dates_2015() -> None:
    got = risk_night_dates(RiskNight(name="Lönehelg", rule="payday_weekend"), 2015)
    assert got[0] == date(2015, 1, 23)  # 25 Jan is a Sunday: paid Friday 23rd
    assert got[1] == date(2015, 2, 27)  # 25 Feb is a Wednesday: that week's Friday
    assert got[6] == date(2015, 7, 24)  # 25 Jul is a Saturday: paid Friday 24th


def test_date_rule_applies_only_in_its_own_year(ps: PromiseSet) -> None:
    studenten = _rule(ps, "Studenten")
    assert risk_night_dates(studenten, 2015) == [date(2015, 6, 11)]
    assert risk_night_dates(studenten, 2016) == []
    names_2016 = " / ".join(n.name for n in risk_nights(ps, 2016))
    assert "Studenten" not in names_2016
    assert "Skolavslutning" not in names_2016


def test_two_rules_on_one_date_merge_into_one_night_with_both_names(ps: PromiseSet) -> None:
    nights = [n for n in risk_nights(ps, 2015) if n.day.month in (10, 11)]
    assert len(nights) == 1
    night = nights[0]
    assert night.day == date(2015, 10, 31)
    assert "Allhelgonahelgen" in night.name
    assert "Halloween" in night.name


def test_rules_on_different_dates_stay_apart_when_they_do_not_meet(ps: PromiseSet) -> None:
    # 2016: Allhelgona is Saturday 5 November, Halloween still 31 October
    days = [n.day for n in risk_nights(ps, 2016) if n.day.month in (10, 11)]
    assert days == [date(2016, 10, 31), date(2016, 11, 5)]


def test_arvidsjaur_2015_has_nine_risk_nights_one_per_date(ps: PromiseSet) -> None:
    days = [n.day for n in risk_nights(ps, 2015)]
    assert days == [
        date(2015, 4, 30), date(2015, 6, 11), date(2015, 6, 12), date(2015, 6, 19),
        date(2015, 7, 18), date(2015, 8, 29), date(2015, 10, 31), date(2015, 12, 13),
        date(2015, 12, 31),
    ]


def test_merged_night_keeps_its_own_hours_or_the_default(ps: PromiseSet) -> None:
    by_day = {n.day: n for n in risk_nights(ps, 2015)}
    assert str(by_day[date(2015, 6, 19)].hours) == "18:00-03:00"
    assert str(by_day[date(2015, 12, 31)].hours) == "20:00-03:00"
    assert str(by_day[date(2015, 10, 31)].hours) == "20:00-02:00"


# --- school days ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def school_2015(ps: PromiseSet) -> list[date]:
    assert ps.school is not None
    return school_days(ps.school, date(2015, 1, 1), date(2015, 12, 31))


def test_school_days_are_never_weekends(school_2015: list[date]) -> None:
    assert school_2015
    assert all(d.weekday() < 5 for d in school_2015)


@pytest.mark.parametrize(
    "day",
    [date(2015, 5, 14),  # Kristi himmelsfärdsdag
     date(2015, 5, 1),  # Första maj, a Friday in term
     date(2015, 5, 15),  # a break day
     date(2015, 3, 4), date(2015, 4, 8), date(2015, 10, 28),  # sportlov, påsklov, höstlov
     date(2015, 1, 7), date(2015, 6, 15), date(2015, 7, 1), date(2015, 8, 19),  # outside terms
     date(2015, 12, 21)],
)
def test_school_days_exclude_holidays_breaks_and_days_outside_terms(
    school_2015: list[date], day: date
) -> None:
    assert day not in school_2015


@pytest.mark.parametrize(
    "day", [date(2015, 1, 8), date(2015, 5, 13), date(2015, 6, 12), date(2015, 8, 20),
            date(2015, 12, 18)],
)
def test_school_days_include_ordinary_term_weekdays(school_2015: list[date], day: date) -> None:
    assert day in school_2015


def test_school_days_exclude_epiphany_inside_a_term() -> None:
    school = School(terms=[DateRange(start=date(2015, 1, 1), end=date(2015, 1, 31))],
                    windows={})
    days = school_days(school, date(2015, 1, 1), date(2015, 1, 9))
    # 1 Jan (nyårsdagen) and 6 Jan (trettondedag jul) are holidays; 3-4 Jan a weekend
    assert days == [date(2015, 1, 2), date(2015, 1, 5), date(2015, 1, 7), date(2015, 1, 8),
                    date(2015, 1, 9)]


def test_school_days_respect_first_and_last() -> None:
    school = School(terms=[DateRange(start=date(2015, 1, 1), end=date(2015, 12, 31))],
                    windows={})
    assert school_days(school, date(2015, 9, 9), date(2015, 9, 10)) == [
        date(2015, 9, 9), date(2015, 9, 10)]


# --- DST-safe instants ----------------------------------------------------------------------


def test_local_instant_on_a_normal_day_keeps_the_wall_time() -> None:
    moment = local_instant(date(2015, 7, 1), time(22, 0), TZ)
    assert moment.isoformat() == "2015-07-01T22:00:00+02:00"


def test_local_instant_in_the_skipped_spring_hour_is_a_real_instant_later() -> None:
    moment = local_instant(date(2015, 3, 29), time(2, 30), TZ)
    # it round-trips through UTC unchanged, so it is a real instant
    assert moment.astimezone(UTC).astimezone(TZ) == moment
    assert moment.astimezone(UTC).astimezone(TZ).isoformat() == moment.isoformat()
    assert moment.isoformat() == "2015-03-29T03:30:00+02:00"
    assert moment.astimezone(UTC).isoformat() == "2015-03-29T01:30:00+00:00"


def test_local_instant_in_the_repeated_autumn_hour_is_the_first_one() -> None:
    moment = local_instant(date(2015, 10, 25), time(2, 30), TZ)
    assert moment.isoformat() == "2015-10-25T02:30:00+02:00"
    assert moment.astimezone(UTC).isoformat() == "2015-10-25T00:30:00+00:00"


def test_plus_minutes_counts_elapsed_minutes_across_the_spring_change() -> None:
    start = local_instant(date(2015, 3, 28), time(22, 0), TZ)
    end = plus_minutes(start, 240)
    assert end.isoformat() == "2015-03-29T03:00:00+02:00"  # wall clock jumps 02 -> 03
    assert _elapsed_minutes(start, end) == 240


def test_plus_minutes_before_the_autumn_change_has_no_jump_yet() -> None:
    start = local_instant(date(2015, 10, 24), time(22, 0), TZ)
    end = plus_minutes(start, 240)
    # 22, 23, 00, 01, 02 summer time: the clock goes back only at 03:00 CEST
    assert end.isoformat() == "2015-10-25T02:00:00+02:00"
    assert _elapsed_minutes(start, end) == 240
    one_hour_less = plus_minutes(start, 180)
    assert one_hour_less.isoformat() == "2015-10-25T01:00:00+02:00"


def test_plus_minutes_across_03_00_on_the_autumn_change_repeats_the_hour() -> None:
    start = local_instant(date(2015, 10, 24), time(23, 0), TZ)
    end = plus_minutes(start, 240)
    assert end.isoformat() == "2015-10-25T02:00:00+01:00"  # 4 hours, wall clock shows 3
    assert _elapsed_minutes(start, end) == 240
    assert end.astimezone(UTC).isoformat() == "2015-10-25T01:00:00+00:00"


def test_plus_minutes_keeps_the_zone() -> None:
    start = local_instant(date(2015, 1, 10), time(20, 0), TZ)
    assert plus_minutes(start, 90).tzinfo is start.tzinfo
