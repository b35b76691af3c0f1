"""One rule for where a promise stands, held to its properties."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from medlofte_bot.domain.standing import BAD, Standing, standing

counts = st.integers(min_value=0, max_value=30)


@given(target=counts, done=counts, expected=counts, joint_target=counts, joint_done=counts,
       joint_expected=counts, reachable=st.none() | counts)
def test_during_the_year_the_target_met_is_klart_and_never_bad(
        target: int, done: int, expected: int, joint_target: int, joint_done: int,
        joint_expected: int, reachable: int | None) -> None:
    assume(expected <= target and joint_expected <= joint_target)  # what is due is capped
    state = standing(target, done, expected, joint_target=joint_target, joint_done=joint_done,
                     joint_expected=joint_expected, reachable=reachable)
    met = done >= target and joint_done >= joint_target
    assert (state == Standing.MET) is met
    assert state not in (Standing.FULFILLED, Standing.NOT_FULFILLED)
    if met:
        assert state not in BAD
    if done < expected and not met:
        assert state in BAD  # behind the plan, or the target is out of reach


@given(target=counts, done=counts, expected=counts, joint_target=counts, joint_done=counts,
       reachable=st.none() | counts)
def test_after_the_year_only_fulfilled_or_not(target: int, done: int, expected: int,
                                               joint_target: int, joint_done: int,
                                               reachable: int | None) -> None:
    state = standing(target, done, expected, joint_target=joint_target, joint_done=joint_done,
                     reachable=reachable, over=True)
    met = done >= target and joint_done >= joint_target
    assert state == (Standing.FULFILLED if met else Standing.NOT_FULFILLED)


def test_the_findings_read_right() -> None:
    # 13/13 during the year is done, not "i takt"; after the year it is fulfilled
    assert standing(13, 13, 9) == Standing.MET
    assert standing(13, 13, 13, over=True) == Standing.FULFILLED
    # 6/6 with 1 of 2 joint ones while the second was due: behind, not a green "i takt"
    assert standing(6, 6, 6, joint_target=2, joint_done=1, joint_expected=2) == Standing.BEHIND
    assert standing(6, 6, 6, joint_target=2, joint_done=1, joint_expected=1) == \
        Standing.ON_TRACK
    assert standing(6, 6, 6, joint_target=2, joint_done=1, over=True) == \
        Standing.NOT_FULFILLED
    # out of reach beats ahead
    assert standing(6, 3, 2, reachable=5) == Standing.AT_RISK
    assert standing(None, 0, 5) == Standing.ON_TRACK
