"""Reading what people type: done-replies and times in Swedish and English."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from medlofte_bot.domain.parsing import done_note, parse_counters, parse_when, vehicle_word

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


@pytest.mark.parametrize(("text", "vehicle"), [("civil 14", "unmarked"), ("polismålad 3", "marked"),
                                               ("unmarked car", "unmarked"), ("14", None)])
def test_vehicle_words(text: str, vehicle: str | None) -> None:
    assert vehicle_word(text) == vehicle
