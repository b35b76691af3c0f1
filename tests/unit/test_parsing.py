"""Reading what people type: done-replies and times in Swedish and English."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medlofte_bot.domain.parsing import (
    TASK_NUMBER_MAX,
    clean_text,
    done_note,
    parse_counters,
    parse_when,
    task_number,
    vehicle_word,
)

TZ = ZoneInfo("Europe/Stockholm")
NOW = datetime(2015, 6, 10, 12, 0, tzinfo=TZ)  # a Wednesday


@pytest.mark.parametrize(("text", "note"), [
    ("klar", ""), ("Klar, 3 ställen", "3 ställen"), ("GJORT", ""), ("genomförd: lugnt", "lugnt"),
    ("done - quiet night", "quiet night"), ("✅", ""),
    ("✅ inga anmärkningar", "inga anmärkningar"),
])
def test_done_words_in_any_case_mark_done_and_keep_the_note(text: str, note: str) -> None:
    assert done_note(text) == note


@pytest.mark.parametrize("text", ["klarar det inte", "hej", "inte klar", "", "klarade"])
def test_other_text_is_not_a_done_reply(text: str) -> None:
    assert done_note(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("fre 22:00", datetime(2015, 6, 12, 22, 0)),
    ("fredag kl 22", datetime(2015, 6, 12, 22, 0)),
    ("12/6 21.00", datetime(2015, 6, 12, 21, 0)),
    ("2015-06-12 21:00", datetime(2015, 6, 12, 21, 0)),
    ("tomorrow 7:30", datetime(2015, 6, 11, 7, 30)),
    ("i morgon 7.30", datetime(2015, 6, 11, 7, 30)),
    ("imorgon 07:30", datetime(2015, 6, 11, 7, 30)),
    ("Friday at 22:00", datetime(2015, 6, 12, 22, 0)),
    ("ons 10:00", datetime(2015, 6, 17, 10, 0)),  # today's weekday, time passed: next week
    ("ons 18:00", datetime(2015, 6, 10, 18, 0)),  # today's weekday, later today
    ("1/6 21:00", datetime(2016, 6, 1, 21, 0)),  # a date already passed means next year
])
def test_times_are_read_in_swedish_and_english(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, TZ) == expected.replace(tzinfo=TZ)


@pytest.mark.parametrize("text", ["någon gång", "fre", "25:00", "31/2 21:00", "fre 22:61", ""])
def test_unreadable_times_give_none(text: str) -> None:
    assert parse_when(text, NOW, TZ) is None


def test_counters_are_read_in_order_and_too_few_is_refused() -> None:
    names = ["young_people_met", "pour_outs", "guardians_contacted"]
    assert parse_counters("12 4 3", names) == dict(zip(names, [12, 4, 3], strict=True))
    assert parse_counters("12, 4", names) is None


KRONOBERG = ["young_people_met", "pour_outs", "guardians_contacted", "fetched_by_guardians",
             "concern_reports", "suspected_suppliers"]


@pytest.mark.parametrize(("text", "expected"), [
    ("unga 12, upphällningar 3", {"young_people_met": 12, "pour_outs": 3}),
    ("upphällningar 3 unga mötta 12", {"pour_outs": 3, "young_people_met": 12}),
    ("12 unga och 3 upphällningar", {"young_people_met": 12, "pour_outs": 3}),
    ("vårdnadshavare kontaktade 2, hämtade av vårdnadshavare 1",
     {"guardians_contacted": 2, "fetched_by_guardians": 1}),
    ("orosanmälningar: 1\nmisstänkta langare: 0", {"concern_reports": 1,
                                                    "suspected_suppliers": 0}),
    ("Young people 7, pour-outs 2", {"young_people_met": 7, "pour_outs": 2}),
    ("unga 9 fordon 14", {"young_people_met": 9, "vehicles_checked": 14}),
])
def test_counters_are_read_labelled_in_any_order(text: str, expected: dict[str, int]) -> None:
    assert parse_counters(text, [*KRONOBERG, "vehicles_checked"]) == expected


@pytest.mark.parametrize("text", [
    "unga 12, unga 3",  # the same counter twice
    "vårdnadshavare 2",  # contacted or fetched: it does not say
    "12 4 unga",  # two numbers, one label
    "unga 12 och sen",  # words after the last number
    "katter 4",  # no such counter
    "inga",
])
def test_counters_that_cannot_be_read_are_refused(text: str) -> None:
    assert parse_counters(text, KRONOBERG) is None


def test_bare_numbers_need_only_the_required_ones() -> None:
    names = [*KRONOBERG, "vehicles_checked"]
    assert parse_counters("1 2 3 4 5 6", names, required=6) == dict(zip(KRONOBERG, range(1, 7),
                                                                        strict=True))
    assert parse_counters("1 2 3 4 5", names, required=6) is None
    assert (parse_counters("1 2 3 4 5 6 9", names, required=6) or {}).get("vehicles_checked") == 9


@pytest.mark.parametrize(("text", "vehicle"), [("civil 14", "unmarked"), ("polismålad 3", "marked"),
                                               ("unmarked car", "unmarked"), ("14", None)])
def test_vehicle_words(text: str, vehicle: str | None) -> None:
    assert vehicle_word(text) == vehicle


@pytest.mark.parametrize(("text", "number"), [
    ("17", 17), ("#17", 17), ("1", 1), ("2147483647", TASK_NUMBER_MAX), ("007", 7),
])
def test_a_task_number_is_ascii_digits_with_an_optional_hash(text: str, number: int) -> None:
    assert task_number(text) == number


@pytest.mark.parametrize("text", [
    "²", "¹⁷", "١٧", "１７", "0", "#0", "-3", "+3", " 17", "17 ", "1.0", "1_000", "#", "", "##1",
    "2147483648", "99999999999999999999", "9" * 5000,
])
def test_anything_else_is_no_task_number(text: str) -> None:
    """Unicode digits pass str.isdigit() but not int() or the database: refused up front."""
    assert task_number(text) is None


@given(st.text())
def test_a_task_number_is_always_a_positive_database_integer_from_ascii_digits(
        text: str) -> None:
    number = task_number(text)
    if number is not None:
        assert 1 <= number <= TASK_NUMBER_MAX
        assert text.lstrip("#").isascii() and text.lstrip("#").isdecimal()
        assert int(text.lstrip("#")) == number


@given(st.integers(min_value=1, max_value=TASK_NUMBER_MAX), st.booleans())
def test_every_database_integer_is_read_back(number: int, hashed: bool) -> None:
    assert task_number(("#" if hashed else "") + str(number)) == number


def test_clean_text_drops_nul_and_controls_but_keeps_line_breaks_and_tabs() -> None:
    assert clean_text("skäl\x00x") == "skälx"
    assert clean_text("rad ett\nrad\ttvå\x07\x1b[31m\x7f") == "rad ett\nrad\ttvå[31m"
    assert clean_text("👮\u200d♀️ klar") == "👮\u200d♀️ klar"  # joiners are not controls
    assert clean_text("lone \ud800 surrogate") == "lone  surrogate"


@given(st.text())
def test_clean_text_leaves_no_control_character_and_is_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    assert "\x00" not in cleaned
    assert all(c in "\n\t" or not (c < " " or "\x7f" <= c <= "\x9f") for c in cleaned)
    assert clean_text(cleaned) == cleaned
    assert len(cleaned) <= len(text)


def test_dates_with_weekday_and_month_names_are_read() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from medlofte_bot.domain.parsing import parse_when

    tz = ZoneInfo("Europe/Stockholm")
    now = datetime(2015, 3, 1, 9, tzinfo=tz)
    march_21 = datetime(2015, 3, 21, 22, tzinfo=tz)
    for text in ("lördag 21 mars 22:00", "21 mars kl 22", "lör 21 mars 22.00",
                 "Saturday 21 March 22:00", "den 21 mars kl. 22", "21 mar 22:00"):
        assert parse_when(text, now, tz) == march_21, text
    assert parse_when("3 juni 2016 7:30", now, tz) == datetime(2016, 6, 3, 7, 30, tzinfo=tz)
    assert parse_when("2 februari 20:00", now, tz) == datetime(2016, 2, 2, 20, tzinfo=tz)
    for wrong in ("fredag 21 mars 22:00", "31 april 22:00", "21 marsipan 22:00"):
        assert parse_when(wrong, now, tz) is None, wrong
