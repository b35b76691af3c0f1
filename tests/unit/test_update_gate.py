"""The update gate: a redelivered update never runs twice; a flood is told once and paused."""

from __future__ import annotations

from itertools import count

from medlofte_bot.chat.updates import FLOOD_COUNT, UpdateGate, Verdict


class FakeMonotonic:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _gate() -> tuple[UpdateGate, FakeMonotonic, count[int]]:
    clock = FakeMonotonic()
    return UpdateGate(clock), clock, count(1)


def test_an_update_id_seen_before_is_a_duplicate_and_not_counted_against_anyone() -> None:
    gate, _clock, _ids = _gate()
    assert gate.admit(7, 100) is Verdict.RUN
    assert gate.admit(7, 100) is Verdict.DUPLICATE
    assert gate.admit(7, None) is Verdict.DUPLICATE
    verdicts = [gate.admit(100 + n, 100) for n in range(FLOOD_COUNT - 1)]
    assert set(verdicts) == {Verdict.RUN}  # 1 + 19 updates: the duplicates did not count


def test_only_the_last_ten_thousand_ids_are_remembered() -> None:
    gate = UpdateGate(FakeMonotonic(), remember=10_000)
    for update_id in range(1, 10_002):
        assert gate.admit(update_id, None) is Verdict.RUN
    assert gate.admit(1, None) is Verdict.RUN  # forgotten: memory stays bounded
    assert gate.admit(10_001, None) is Verdict.DUPLICATE


def test_twenty_in_ten_seconds_run_the_next_is_told_once_and_then_ignored_for_a_minute() -> None:
    gate, clock, ids = _gate()
    for _ in range(FLOOD_COUNT):
        assert gate.admit(next(ids), 42) is Verdict.RUN
        clock.now += 0.4  # 20 updates in 8 s
    assert gate.admit(next(ids), 42) is Verdict.FLOODING
    for _ in range(100):
        clock.now += 0.5
        assert gate.admit(next(ids), 42) is Verdict.PAUSED
    clock.now += 10.1  # the minute is over
    assert gate.admit(next(ids), 42) is Verdict.RUN


def test_a_steady_pace_under_the_limit_is_never_paused() -> None:
    gate, clock, ids = _gate()
    for _ in range(500):
        assert gate.admit(next(ids), 42) is Verdict.RUN
        clock.now += 0.51  # 20 updates take 10.2 s


def test_people_do_not_share_a_bucket() -> None:
    gate, clock, ids = _gate()
    for _ in range(FLOOD_COUNT):
        assert gate.admit(next(ids), 1) is Verdict.RUN
    assert gate.admit(next(ids), 1) is Verdict.FLOODING
    for person in range(2, 200):
        assert gate.admit(next(ids), person) is Verdict.RUN
    clock.now += 1
    assert gate.admit(next(ids), 1) is Verdict.PAUSED
    assert gate.admit(next(ids), 2) is Verdict.RUN


def test_quiet_people_are_forgotten() -> None:
    gate, clock, ids = _gate()
    for person in range(1000):
        gate.admit(next(ids), person)
    clock.now += 11
    gate.admit(next(ids), 5000)
    assert gate.tracked() == 1
