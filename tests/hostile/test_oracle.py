"""The oracle can fail: made-up snapshots and messages it must flag, and some it must not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from medlofte_bot import texts

from . import oracle
from .oracle import AuditRow, MemberRow, Snapshot, TaskRow

START = datetime(2015, 6, 12, 20, 0, tzinfo=UTC)


def _task(tid: int, team: str, visibility: str = "police", kind: str = "narcotics_operation",
          status: str = "pending", start: datetime = START) -> TaskRow:
    return TaskRow(tid, "Riktade insatser mot narkotika", visibility == "police", kind,
                   visibility, team, False, (), status, start, start + timedelta(hours=4),
                   False, "")


def _world() -> Snapshot:
    snap = Snapshot()
    snap.tasks = {12: _task(12, "lag-1"), 15: _task(15, "lag-2", "partners", "risk_night",
                                                    start=START + timedelta(days=1))}
    snap.members = {
        1: MemberRow(1, 2001, "officer", "lag-1", None, True, "sv"),
        2: MemberRow(2, 2002, "officer", "lag-2", None, True, "sv"),
        3: MemberRow(3, 3001, "partner", None, "alkoholhandlaggare", True, "sv"),
    }
    snap.groups = {1: ("lag-1", -500), 2: ("lag-2", None)}
    return snap


def _done(snap: Snapshot, tid: int) -> Snapshot:
    after = _world()
    after.tasks[tid] = _task(tid, snap.tasks[tid].team or "", snap.tasks[tid].visibility,
                             snap.tasks[tid].kind, "done")
    return after


def test_a_change_by_the_team_s_officer_is_allowed_by_another_team_s_or_a_partner_not() -> None:
    before = _world()
    after = _done(before, 12)
    audit = [AuditRow(1, "member:1", "done", "task", "12")]
    assert oracle.check_changes(before, after, audit, {2001}, tick=False) == []
    other = [AuditRow(1, "member:2", "done", "task", "12")]
    assert "may not done task 12 of lag-1" in oracle.check_changes(
        before, after, other, {2002}, tick=False)[0]
    partner = [AuditRow(1, "member:3", "done", "task", "12")]
    assert "police only" in oracle.check_changes(before, after, partner, {3001}, False)[0]
    assert "sent nothing" in oracle.check_changes(before, after, audit, {2002}, False)[0]


def test_an_unaudited_change_and_a_system_change_outside_a_tick_are_flagged() -> None:
    before = _world()
    after = _done(before, 12)
    assert "unaudited change: task 12" in oracle.check_changes(before, after, [], {2001},
                                                               False)[0]
    system = [AuditRow(1, "system", "missed", "task", "12")]
    assert oracle.check_changes(before, after, system, set(), tick=True) == []
    assert "outside a tick" in oracle.check_changes(before, after, system, set(), False)[0]


def test_a_language_change_is_the_member_s_own_and_a_risk_night_never_moves() -> None:
    before = _world()
    after = _world()
    after.members[3] = MemberRow(3, 3001, "partner", None, "alkoholhandlaggare", True, "en")
    assert oracle.check_changes(before, after, [], {3001}, False) == []
    assert "sent nothing" in oracle.check_changes(before, after, [], {2001}, False)[0]
    moved = _world()
    moved.tasks[15] = _task(15, "lag-2", "partners", "risk_night", start=START + timedelta(3))
    found = oracle.rule_breaks(before, moved)
    assert found and "risk night 15 moved" in found[0]


def test_police_only_ids_times_titles_and_buttons_are_leaks_unless_typed() -> None:
    snap = _world()
    secrets = oracle.secrets_of(snap)
    partner = oracle.audience(3001, snap, snap, secrets)
    when = texts.when(START.astimezone(oracle.TZ), "sv")
    assert oracle.leaks(f"#12 {when}", ["d:12"], False, partner, secrets, "") == [
        "police-only task #12", "a button for police-only task 12 ('d:12')",
        f"the time of police-only task 12 ({when!r})"]
    assert oracle.leaks("#120 and #15", ["d:15"], False, partner, secrets, "") == []
    assert oracle.leaks("ingen #12", [], False, partner, secrets, "/klar #12") == []
    assert oracle.leaks("Riktade insatser mot narkotika: 0/6", [], False, partner, secrets, "")
    assert oracle.leaks("", [], True, partner, secrets, "") == [
        "a chart (every promise, police-only ones included)"]


def test_a_time_shared_with_a_task_the_reader_may_see_is_no_leak() -> None:
    snap = _world()
    snap.tasks[16] = _task(16, "lag-2", "partners", "risk_night")  # at START, as #12
    secrets = oracle.secrets_of(snap)
    partner = oracle.audience(3001, snap, snap, secrets)
    when = texts.when(START.astimezone(oracle.TZ), "sv")
    assert oracle.leaks(f"#16 {when}", [], False, partner, secrets, "") == []
    later = texts.when((START + timedelta(days=1)).astimezone(oracle.TZ), "sv")
    snap.tasks[13] = _task(13, "lag-1", start=START + timedelta(days=1))
    secrets = oracle.secrets_of(snap)
    officer = oracle.audience(2002, snap, snap, secrets)
    assert oracle.leaks(f"#15 {later}", [], False, officer, secrets, "") == []
    snap.tasks[14] = _task(14, "lag-1", start=START + timedelta(days=2))
    secrets = oracle.secrets_of(snap)
    officer = oracle.audience(2002, snap, snap, secrets)
    alone = texts.when((START + timedelta(days=2)).astimezone(oracle.TZ), "sv")
    assert oracle.leaks(alone, [], False, officer, secrets, "") == [
        f"the time of police-only task 14 ({alone!r})"]


def test_a_team_group_may_hear_its_own_team_but_no_other() -> None:
    snap = _world()
    snap.tasks[20] = _task(20, "lag-2")
    secrets = oracle.secrets_of(snap)
    group = oracle.audience(-500, snap, snap, secrets)
    assert oracle.leaks("#12 Riktade insatser mot narkotika", [], False, group, secrets, "") == []
    assert oracle.leaks("#20", [], False, group, secrets, "") == ["police-only task #20"]
    officer = oracle.audience(2002, snap, snap, secrets)
    assert oracle.leaks("#20", [], False, officer, secrets, "") == []
    loose = oracle.audience(-600, snap, snap, secrets)
    assert oracle.leaks("#20", [], False, loose, secrets, "") == ["police-only task #20"]
