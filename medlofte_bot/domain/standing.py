"""Where a promise stands: one rule for /status, the Monday summary, the chart and the report.

Pure: it takes counts, never rows, so every reader of a promise's numbers gets the same
word for them (tests/unit/test_standing.py holds the rule to its properties).
"""

from __future__ import annotations

from enum import StrEnum


class Standing(StrEnum):
    """A promise's state: during the year, then once its year is over."""

    AHEAD = "ahead"  # före
    ON_TRACK = "on_track"  # i takt
    BEHIND = "behind"  # efter
    AT_RISK = "at_risk"  # i fara: the target can no longer be reached
    MET = "met"  # klart: the target (and the joint target) is reached
    FULFILLED = "fulfilled"  # uppfyllt: the year is over and the target was reached
    NOT_FULFILLED = "not_fulfilled"  # ej uppfyllt


BAD = frozenset({Standing.BEHIND, Standing.AT_RISK, Standing.NOT_FULFILLED})


def standing(target: int | None, done: int, expected: int, *, joint_target: int = 0,
             joint_done: int = 0, joint_expected: int = 0, reachable: int | None = None,
             over: bool = False) -> Standing:
    """The state of a promise with ``done`` of ``target`` where ``expected`` should be done
    by now (the plan as it stands: a missed task that was replaced counts once), of which
    ``joint_done`` of ``joint_target`` with a partner (``joint_expected`` by now);
    ``reachable`` at most by the end of the year; ``over`` once the year has ended. A
    promise whose count is reached but whose joint part is not is as far as its joint part.

    A promise without a target (counters only) is always on track.
    """
    if target is None:
        return Standing.ON_TRACK
    met = done >= target and joint_done >= joint_target
    if over:
        return Standing.FULFILLED if met else Standing.NOT_FULFILLED
    if met:
        return Standing.MET
    if reachable is not None and reachable < target:
        return Standing.AT_RISK
    if done >= target:  # only the joint part is left: it decides
        return Standing.BEHIND if joint_done < joint_expected else Standing.ON_TRACK
    if done > expected:
        return Standing.AHEAD
    return Standing.ON_TRACK if done >= expected else Standing.BEHIND
