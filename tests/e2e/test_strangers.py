"""A stranger gets the one polite sentence, whatever they send, and nothing changes."""

from __future__ import annotations

from .conftest import Harness

STRANGER = 9999


async def test_a_stranger_with_a_long_text_gets_the_polite_sentence_not_an_error(
        bot: Harness) -> None:
    await bot.emu.add_user(STRANGER, "Sven")
    for text in ("/mina " + "x" * 800, "y" * 900, "/stallin 1 " + "z" * 700):
        answer = await bot.say(STRANGER, text)
        assert "Be samordnaren om en inbjudan" in answer, answer
        assert "Något gick fel" not in answer
    assert len(bot.emu.messages_to(STRANGER)) == 3
