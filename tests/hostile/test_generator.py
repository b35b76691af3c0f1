"""The hostile generator is pure and seeded, and covers every family and callback format."""

from __future__ import annotations

from itertools import islice

from .generator import FAMILIES, Flood, Join, Press, Ref, Repeat, Send, Step, steps


def _first(seed: int, n: int) -> list[Step]:
    return list(islice(steps(seed), n))


def _text(step: Step) -> str:
    action = step.action
    pieces = action.first.data if isinstance(action, Repeat) and isinstance(
        action.first, Press) else getattr(action, "data", getattr(action, "text", ()))
    return "".join(p if isinstance(p, str) else "<ref>" for p in pieces)


def test_the_same_seed_gives_the_same_steps_and_another_seed_others() -> None:
    assert _first(7, 500) == _first(7, 500)
    assert _first(7, 500) != _first(8, 500)


def test_every_family_comes_within_the_first_steps() -> None:
    assert {s.family for s in _first(3, len(FAMILIES))} == set(FAMILIES)


def test_forged_callbacks_cover_every_format_the_bot_makes_and_garbage() -> None:
    data = [_text(s) for s in _first(1, 4000) if isinstance(s.action, Press)]
    prefixes = {d.split(":", 1)[0] for d in data if ":" in d}
    assert {"d", "m", "mv", "c", "j", "s"} <= prefixes
    assert any(d.startswith("mv:") and d.endswith("+25:00") for d in data)
    assert any(d.startswith("mv:") and d.endswith("T22:00:00") for d in data)  # naive
    assert any("²" in d for d in data) and "" in data
    assert any(s.action.twice for s in _first(1, 4000) if isinstance(s.action, Press))


def test_commands_carry_malformed_arguments() -> None:
    sent = [_text(s) for s in _first(2, 4000) if isinstance(s.action, Send)]
    for needle in ("\x00", "\u202e", "²", "2147483648", "9223372036854775808", "x" * 5000,
                   "/help", "/mine", "/cancel", "/group"):
        assert any(needle in t for t in sent), needle


def test_invites_floods_and_repeats_are_made() -> None:
    found = _first(4, 4000)
    joins = {s.action.code for s in found if isinstance(s.action, Join)}
    assert {"fresh", "reused"} <= joins and len(joins) > 3
    floods = [s.action for s in found if isinstance(s.action, Flood)]
    assert floods and all(f.updates > 20 for f in floods)
    assert any(isinstance(s.action, Repeat) for s in found)
    refs = [p for s in found if isinstance(s.action, Send) for p in s.action.text
            if isinstance(p, Ref)]
    assert {r.pool for r in refs} >= {"own", "lag1_police", "lag2_police", "missing"}
