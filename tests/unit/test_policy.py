"""The one gate, as a table: every role x visibility x action, and where answers may go."""

from __future__ import annotations

import pytest

from medlofte_bot.domain.policy import (
    Action,
    ChatFacts,
    Place,
    PromiseFacts,
    Shows,
    TaskFacts,
    Viewer,
    answer_place,
    can_act,
    can_comment,
    can_invite,
    can_manage,
    can_read_summary,
    can_see,
    can_see_promise,
    can_set_group,
    gets_area_alert,
    may_show_in_chat,
    receives_reminder,
    task_answer_place,
    year_report_version,
)

# municipality 1 and 2 form one police area, 3 another; the task is team 1's, in 1
PEOPLE = {
    "officer": Viewer("officer", team_id=1, municipality_id=1),
    "officer_other_team": Viewer("officer", team_id=2, municipality_id=1),
    "officer_gone": Viewer("officer", team_id=1, municipality_id=1, active=False),
    "partner_invited": Viewer("partner", municipality_id=1, partner_role="alko"),
    "partner_other_role": Viewer("partner", municipality_id=1, partner_role="falt"),
    "partner_other_town": Viewer("partner", municipality_id=2, partner_role="alko"),
    "chief": Viewer("chief", municipality_id=2, area=frozenset({1, 2})),
    "chief_other_area": Viewer("chief", municipality_id=3, area=frozenset({3})),
    "coordinator": Viewer("coordinator", municipality_id=1, area=frozenset({1, 2})),
    "coordinator_other_area": Viewer("coordinator", municipality_id=3, area=frozenset({3})),
    "admin": Viewer("coordinator"),  # named in the settings: every area
}


def task(visibility: str, status: str = "pending") -> TaskFacts:
    return TaskFacts("bar_inspection", visibility, 1, 1, ("alko",), status)


# person: (police task, partners task, public task) -> can see?
SEES = {
    "officer": (True, True, True),
    "officer_other_team": (False, False, False),
    "officer_gone": (False, False, False),
    "partner_invited": (False, True, True),
    "partner_other_role": (False, False, True),
    "partner_other_town": (False, False, False),
    "chief": (True, True, True),
    "chief_other_area": (False, False, False),
    "coordinator": (True, True, True),
    "coordinator_other_area": (False, False, False),
    "admin": (True, True, True),
}
POLICE_ACTIONS = (Action.CONFIRM, Action.MOVE, Action.CANCEL, Action.FOLLOW_UP)


@pytest.mark.parametrize("person", sorted(SEES))
@pytest.mark.parametrize("column,visibility", list(enumerate(("police", "partners", "public"))))
def test_who_sees_and_acts_on_a_task(person: str, column: int, visibility: str) -> None:
    who, facts = PEOPLE[person], task(visibility)
    sees = SEES[person][column]
    assert can_see(who, facts) is sees
    police = who.role != "partner"
    for action in POLICE_ACTIONS:
        assert can_act(who, facts, action) is (sees and police), action
    assert can_act(who, facts, Action.JOIN) is (sees and not police)
    # a partner never joins what is no longer pending
    assert can_act(who, task(visibility, "done"), Action.JOIN) is False


@pytest.mark.parametrize("person,police_promise,partners_promise", [
    ("officer", True, True), ("partner_invited", False, True),
    ("partner_other_role", False, True), ("partner_other_town", False, False),
    ("chief", True, True), ("chief_other_area", False, False), ("admin", True, True),
    ("officer_gone", False, False),
])
def test_a_partner_never_sees_a_police_only_promise_line(person: str, police_promise: bool,
                                                          partners_promise: bool) -> None:
    who = PEOPLE[person]
    assert can_see_promise(who, PromiseFacts("police", 1)) is police_promise
    assert can_see_promise(who, PromiseFacts("partners", 1)) is partners_promise


def test_only_leaders_read_the_summary() -> None:
    readers = {name for name, who in PEOPLE.items() if can_read_summary(who)}
    assert readers == {"chief", "chief_other_area", "coordinator", "coordinator_other_area",
                       "admin"}


@pytest.mark.parametrize("person,in_1,in_3", [
    ("chief", True, False), ("chief_other_area", False, True), ("coordinator", True, False),
    ("admin", True, True), ("officer", False, False), ("partner_invited", False, False),
    ("officer_gone", False, False),
])
def test_the_year_reports_comment_is_the_area_leaders_and_the_report_in_chat_internal(
        person: str, in_1: bool, in_3: bool) -> None:
    who = PEOPLE[person]
    assert can_comment(who, 1) is in_1 and can_comment(who, 3) is in_3
    assert year_report_version(who) == ("internal" if in_1 or in_3 else None)


@pytest.mark.parametrize("person,in_1,in_3", [
    ("coordinator", True, False), ("coordinator_other_area", False, True), ("admin", True, True),
    ("chief", False, False), ("officer", False, False), ("partner_invited", False, False),
])
def test_invites_groups_and_alerts_stay_in_the_coordinators_area(person: str, in_1: bool,
                                                                 in_3: bool) -> None:
    who = PEOPLE[person]
    for role in ("officer", "partner", "chief", "coordinator"):
        assert can_invite(who, role, 1) is in_1
        assert can_invite(who, role, 3) is in_3
    assert can_invite(who, "sheriff", 1) is False
    assert can_set_group(who, 1) is in_1 and can_set_group(who, 3) is in_3
    assert gets_area_alert(who, 1) is in_1 and gets_area_alert(who, 3) is in_3
    assert can_manage(who, Viewer("officer", municipality_id=1)) is in_1
    assert can_manage(who, Viewer("officer", municipality_id=3)) is in_3


def test_only_an_admin_manages_a_member_with_no_municipality() -> None:
    settings_admin = Viewer("coordinator")
    assert can_manage(PEOPLE["admin"], settings_admin)
    assert not can_manage(PEOPLE["coordinator"], settings_admin)


PRIVATE, TEAM1_GROUP, TEAM2_GROUP, OTHER_GROUP = (
    ChatFacts(True), ChatFacts(False, 1), ChatFacts(False, 2), ChatFacts(False))


@pytest.mark.parametrize("person,chat,shows,place", [
    ("officer", PRIVATE, Shows.AREA, Place.HERE),
    ("partner_invited", PRIVATE, Shows.TEAM_TASKS, Place.HERE),
    ("officer", TEAM1_GROUP, Shows.TEAM_TASKS, Place.HERE),
    ("officer", TEAM2_GROUP, Shows.TEAM_TASKS, Place.PRIVATE),
    ("officer", OTHER_GROUP, Shows.TEAM_TASKS, Place.PRIVATE),
    ("officer", TEAM1_GROUP, Shows.AREA, Place.PRIVATE),
    ("officer", OTHER_GROUP, Shows.NOTHING_SECRET, Place.HERE),
    ("coordinator", TEAM2_GROUP, Shows.TEAM_TASKS, Place.HERE),
    ("chief", TEAM1_GROUP, Shows.AREA, Place.PRIVATE),
    ("partner_invited", TEAM1_GROUP, Shows.TEAM_TASKS, Place.PRIVATE),
    ("partner_invited", OTHER_GROUP, Shows.AREA, Place.PRIVATE),
    ("officer_gone", OTHER_GROUP, Shows.NOTHING_SECRET, Place.SILENT),
])
def test_where_an_answer_goes(person: str, chat: ChatFacts, shows: Shows, place: Place) -> None:
    assert answer_place(PEOPLE[person], chat, shows) is place


def test_strangers_get_nothing_in_groups_and_their_sentence_in_private() -> None:
    assert answer_place(None, OTHER_GROUP, Shows.NOTHING_SECRET) is Place.SILENT
    assert answer_place(None, TEAM1_GROUP, Shows.TEAM_TASKS) is Place.SILENT
    assert answer_place(None, PRIVATE, Shows.AREA) is Place.HERE


@pytest.mark.parametrize("person,chat,place", [
    ("officer", PRIVATE, Place.HERE), ("officer", TEAM1_GROUP, Place.HERE),
    ("officer", TEAM2_GROUP, Place.PRIVATE), ("officer", OTHER_GROUP, Place.PRIVATE),
    ("coordinator", TEAM1_GROUP, Place.HERE), ("partner_invited", TEAM1_GROUP, Place.PRIVATE),
    ("officer_gone", TEAM1_GROUP, Place.SILENT),
])
def test_where_an_answer_about_team_1s_task_goes(person: str, chat: ChatFacts,
                                                 place: Place) -> None:
    assert task_answer_place(PEOPLE[person], chat, 1) is place


def test_a_task_is_shown_in_a_group_only_if_it_is_its_teams_group() -> None:
    for visibility in ("police", "partners", "public"):
        assert may_show_in_chat(PRIVATE, task(visibility))
        assert may_show_in_chat(TEAM1_GROUP, task(visibility))
        assert not may_show_in_chat(TEAM2_GROUP, task(visibility))
        assert not may_show_in_chat(OTHER_GROUP, task(visibility))


@pytest.mark.parametrize("person,audience,visibility,gets", [
    ("officer", "team", "police", True), ("officer_other_team", "team", "police", False),
    ("officer_gone", "assignees", "police", False),
    ("partner_invited", "partners", "partners", True),
    ("partner_invited", "partners", "police", False),
    ("partner_other_role", "partners", "public", False),
    ("partner_other_town", "partners", "partners", False),
    ("coordinator", "coordinators", "partners", True),
    ("coordinator_other_area", "coordinators", "partners", False),
    ("admin", "coordinators", "police", True), ("chief", "coordinators", "partners", False),
    ("officer", "partners", "public", False), ("partner_invited", "team", "public", False),
])
def test_who_receives_a_reminder(person: str, audience: str, visibility: str,
                                 gets: bool) -> None:
    assert receives_reminder(PEOPLE[person], task(visibility), audience) is gets


def test_no_role_check_lives_outside_the_policy_module() -> None:
    """Handlers, services and the outbox ask the policy; they never compare roles themselves
    (a SQL filter on ``m.Member.role`` that only narrows a query is data, not a decision)."""
    import re
    from pathlib import Path

    package = Path(__file__).parents[2] / "medlofte_bot"
    check = re.compile(
        r"(?<!Member)\.role\s*(==|!=|\bin\b|\bnot in\b)|\bLEADERS\b|\bPOLICE_ROLES\b")
    found = [f"{path.relative_to(package)}:{n}: {line.strip()}"
             for path in sorted(package.rglob("*.py"))
             if path.name not in ("policy.py", "states.py")
             for n, line in enumerate(path.read_text().splitlines(), 1) if check.search(line)]
    assert found == []
