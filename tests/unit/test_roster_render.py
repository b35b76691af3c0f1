"""The roster and the invites as messages: names in words, whole lines, every member there."""

from __future__ import annotations

from datetime import UTC, datetime

from medlofte_bot.chat.members import invites_messages, members_messages, number
from medlofte_bot.chat.render import MESSAGE_MAX, pack
from medlofte_bot.domain.states import Role
from medlofte_bot.services.roster import InviteLine, MemberLine


def test_pack_keeps_lines_whole_and_starts_a_message_when_one_is_full() -> None:
    lines = [(f"{i:03d} " + "x" * 96, i) for i in range(100)]  # 100 characters each
    messages = pack(lines, limit=1000, most_marks=50)
    assert all(len(text) <= 1000 for text, _ in messages)
    assert [len(marks) for _, marks in messages] == [9] * 11 + [1]
    joined = "\n".join(text for text, _ in messages).splitlines()
    assert joined == [line for line, _ in lines]


def test_pack_gives_each_message_at_most_the_marks_asked_for() -> None:
    messages = pack([(f"line {i}", i) for i in range(45)], most_marks=20)
    assert [marks for _, marks in messages] == [list(range(20)), list(range(20, 40)),
                                                list(range(40, 45))]


def test_pack_cuts_only_a_line_longer_than_a_message() -> None:
    (text, _), = pack([("word " * 2000, None)])
    assert len(text) <= MESSAGE_MAX and text.endswith("…")


def _member(i: int, role: Role = Role.OFFICER, **kw: object) -> MemberLine:
    values: dict[str, object] = {"municipality": "Arvidsjaur", "team": "Arvidsjaur lag 1",
                                 "partner_role": None}
    values.update(kw)
    return MemberLine(i, f"Person {i} " + "Långnamn" * 3, role, **values)  # type: ignore[arg-type]


def test_a_large_roster_is_split_into_messages_with_every_member_and_a_button_each() -> None:
    lines = [_member(i) for i in range(1, 301)]
    messages = members_messages(lines, "sv")
    assert len(messages) > 1
    assert all(len(text) <= MESSAGE_MAX for text, _ in messages)
    text = "\n".join(t for t, _ in messages)
    assert all(f"#{i} Person {i} " in text for i in range(1, 301))
    buttons = [b for _, markup in messages if markup
               for row in markup.inline_keyboard for b in row]
    assert [b.callback_data for b in buttons] == [f"x:{i}" for i in range(1, 301)]


def test_the_roster_says_roles_teams_and_partner_roles_in_words() -> None:
    lines = [_member(1, Role.COORDINATOR, team=None, is_asker=True),
             _member(2), _member(3, Role.PARTNER, team=None, partner_role="Alkoholhandläggare"),
             _member(4, Role.CHIEF, municipality=None, team=None)]
    (text, markup), = members_messages(lines, "sv")
    assert "#1 Person 1 LångnamnLångnamnLångnamn – samordnare (du)" in text
    assert "#2 Person 2 LångnamnLångnamnLångnamn – polis, Arvidsjaur lag 1" in text
    assert "partner, Alkoholhandläggare" in text
    assert "Samordnare från inställningarna" in text
    assert "officer" not in text and "lag-1" not in text
    assert markup is not None
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data == ["x:2", "x:3", "x:4"], "no button to deactivate oneself"


def test_an_empty_roster_and_no_invites_say_so() -> None:
    assert members_messages([], "en") == [("No active members in your area.", None)]
    assert invites_messages([], "sv")[0][0].startswith("Inga oanvända")


def test_an_invite_line_says_what_it_is_for_by_whom_and_until_when() -> None:
    when = datetime(2015, 3, 1, 9, tzinfo=UTC)
    line = InviteLine(7, "AbC123", Role.PARTNER, "Arvidsjaur", None, "Alkoholhandläggare",
                      "Pia", when, when, None)
    (text, markup), = invites_messages([line], "sv")
    assert "#7 partner, Alkoholhandläggare, Pia" in text and "kommandoraden" in text
    assert "AbC123…" in text
    assert markup is not None and markup.inline_keyboard[0][0].callback_data == "ir:7"


def test_numbers_are_ascii_digits_and_bounded() -> None:
    assert number("12") == 12 and number("#12") == 12
    assert number("²") is None and number("١٢") is None
    assert number("1234567890") is None and number("-1") is None and number("") is None
