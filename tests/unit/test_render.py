"""Texts fit Telegram's 4 096 (UTF-16 units), cut between words, with the template whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from medlofte_bot.chat.render import MESSAGE_MAX, cut_words, fit, message, split, units


def test_cut_words_keeps_whole_words_and_cuts_a_single_long_word_where_it_must() -> None:
    assert cut_words("ab cd ef", 5) == "ab cd"
    assert cut_words("ab cd ef", 4) == "ab"
    assert cut_words("ab\ncd ef", 4) == "ab"
    assert cut_words("ab cd", 9) == "ab cd"
    assert cut_words("abcdef", 3) == "abc"
    assert cut_words("7 " + "x" * 20, 10) == "7 xxxxxxxx"  # no word: cut, not dropped


def test_fit_cuts_at_a_line_break_then_between_words_and_marks_the_cut() -> None:
    lines = "\n".join(f"rad {n}" for n in range(2000))
    cut = fit(lines)
    assert len(cut) <= MESSAGE_MAX and cut.endswith("\n…")
    assert all(line.startswith("rad ") for line in cut.splitlines()[:-1])
    words = fit("ord " * 2000)
    assert len(words) <= MESSAGE_MAX and set(words[:-2].split()) == {"ord"}
    assert fit("kort") == "kort"


def test_fit_counts_what_telegram_counts_an_emoji_is_two_units() -> None:
    text = "👮" * 3000  # 3 000 characters, 6 000 UTF-16 units
    cut = fit(text)
    assert units(cut) <= MESSAGE_MAX and len(cut) > 2000


@given(st.text(min_size=0, max_size=9000))
def test_fit_always_fits_and_keeps_a_text_that_fits(text: str) -> None:
    cut = fit(text)
    assert units(cut) <= MESSAGE_MAX
    if units(text) <= MESSAGE_MAX:
        assert cut == text
    else:
        assert cut.endswith("…") and text.startswith(cut[:-2].rstrip()[:100])


def test_a_long_summary_is_split_between_sections_then_lines_never_inside_a_word() -> None:
    sections = [f"Kommun {n}:\n" + "\n".join(f"#{n}{i} fredag 13 mars kl. 22.00 – Krogtillsyn"
                                             for i in range(40)) for n in range(6)]
    text = "\n\n".join(sections)
    parts = split(text)
    assert len(parts) > 1 and all(units(p) <= MESSAGE_MAX for p in parts)
    assert all(p.startswith("Kommun ") for p in parts), "each part starts at a section"
    assert "\n".join(parts).replace("\n", "") == text.replace("\n", ""), "nothing left out"
    one_section = "\n".join(f"#{i} onsdag 10 juni kl. 19.30 – Narkotikainsats" for i in range(200))
    lines = set(one_section.split("\n"))
    parts = split(one_section)
    assert len(parts) > 1 and all(set(p.split("\n")) <= lines for p in parts), "whole lines"


@given(st.lists(st.text(st.characters(blacklist_categories=["Cs"]), max_size=300),
                max_size=60))
def test_split_keeps_every_word_and_fits(lines: list[str]) -> None:
    text = "\n".join(lines)
    parts = split(text, 500)
    assert all(units(p) <= 500 for p in parts)
    if all(units(line) <= 500 for line in lines):  # no line longer than a message: all kept
        assert "\n".join(parts).split() == text.split()


def test_message_cuts_the_person_s_text_and_keeps_the_sentence_around_it() -> None:
    reason = "långt " * 800
    text = message("cancelled", "sv", id=7, reason=reason)
    assert len(text) <= MESSAGE_MAX
    assert text.startswith("Uppgift 7 är inställd (långt") and text.endswith("långt…).")
    assert message("cancelled", "sv", id=7, reason="sjuk") == "Uppgift 7 är inställd (sjuk)."
