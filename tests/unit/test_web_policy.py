"""The web view's rules in the one policy module: who logs in, whose municipality's report,
which version, police counts before the year is over, a task's details, a summary read
again after a change of role."""

from __future__ import annotations

import pytest

from medlofte_bot.domain.policy import (
    Viewer,
    can_use_web,
    may_reread_summary,
    report_shows_police_counts,
    sees_municipality,
    sees_task_details,
    web_report_version,
)

OFFICER = Viewer("officer", team_id=1, municipality_id=1)
PARTNER = Viewer("partner", municipality_id=1, partner_role="alko")
CHIEF = Viewer("chief", municipality_id=2, area=frozenset({1, 2}))
ADMIN = Viewer("coordinator")
GONE = Viewer("officer", team_id=1, municipality_id=1, active=False)


@pytest.mark.parametrize("who,logs_in,version,details", [
    (OFFICER, True, "public", True), (PARTNER, True, "public", False),
    (CHIEF, True, "internal", True), (ADMIN, True, "internal", True),
    (GONE, False, "public", False),
])
def test_who_logs_in_reads_which_report_and_a_tasks_details(who: Viewer, logs_in: bool,
                                                            version: str,
                                                            details: bool) -> None:
    assert can_use_web(who) is logs_in
    assert web_report_version(who) == version
    assert sees_task_details(who) is details


def test_a_stranger_role_never_logs_in() -> None:
    assert not can_use_web(Viewer("sheriff", municipality_id=1))


@pytest.mark.parametrize("who,one,two,three", [
    (OFFICER, True, False, False), (PARTNER, True, False, False),
    (CHIEF, True, True, False), (ADMIN, True, True, True), (GONE, False, False, False),
])
def test_whose_municipality_a_member_reads(who: Viewer, one: bool, two: bool,
                                           three: bool) -> None:
    assert [sees_municipality(who, m) for m in (1, 2, 3)] == [one, two, three]


def test_police_counts_reach_a_partner_only_once_the_year_is_over() -> None:
    assert not report_shows_police_counts(PARTNER, year_over=False)
    assert report_shows_police_counts(PARTNER, year_over=True)
    assert report_shows_police_counts(OFFICER, year_over=False)


def test_a_police_summary_is_read_again_only_by_police() -> None:
    assert may_reread_summary(CHIEF, police_summary=True)
    assert not may_reread_summary(PARTNER, police_summary=True)  # a chief turned partner
    assert may_reread_summary(PARTNER, police_summary=False)
    assert not may_reread_summary(GONE, police_summary=False)
