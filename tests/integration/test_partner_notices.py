"""Partners in the loop (issue 9, point 4) through the one outbox, on SQLite and PostgreSQL:
a partner who joined is told of a move, a cancellation and the result; a missed task is told
to its team and coordinators with what the re-plan did; quiet hours hold a message until
the morning; the coordinator's no-partner alert names who declined and can ask again or
run the task with police only; risk-night invitees who came are counted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.states import ReminderState, TaskStatus
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.services import notices, tasks
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.outbox import Outbox, Outgoing
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.report import year_report
from medlofte_bot.services.status import PromiseStatus, promise_status
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
NEW_YEAR = datetime(2015, 1, 1, 6, tzinfo=UTC)
TZ = ZoneInfo("Europe/Stockholm")


@dataclass
class World:
    db: Database
    outbox: Outbox
    ctx: ServiceContext
    olle: int
    pia: int  # alkoholhandläggare
    per: int  # alkoholhandläggare too
    fia: int  # fältarbetare, invited to the risk nights
    cora: int


def _member(s: Session, tg: int, name: str, role: str, team: str | None = None,
            partner_role: str | None = None) -> int:
    muni = s.scalars(select(m.Municipality)).one()
    team_id = s.scalar(select(m.Team.id).where(m.Team.key == team)) if team else None
    row = m.Member(telegram_id=tg, display_name=name, role=role, team_id=team_id,
                   municipality_id=muni.id, partner_role=partner_role, language="sv",
                   created_at=NEW_YEAR)
    s.add(row)
    s.flush()
    return row.id


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    db = Database(db_url)
    db.migrate()
    loaded = load_promise_set(CONFIG)
    with db.transaction() as s:
        apply_promise_set(s, loaded, NEW_YEAR)
        ids = (_member(s, 2001, "Olle", "officer", team="lag-1"),
               _member(s, 3001, "Pia", "partner", partner_role="alkoholhandlaggare"),
               _member(s, 3002, "Per", "partner", partner_role="alkoholhandlaggare"),
               _member(s, 3003, "Fia", "partner", partner_role="faltarbetare"),
               _member(s, 1001, "Cora", "coordinator"))
    ctx = ServiceContext(db, {("arvidsjaur", 2015): loaded.promise_set}, ManualClock(NEW_YEAR))
    yield World(db, Outbox(ctx), ctx, *ids)
    db.dispose()


def _joint_task(w: World) -> int:
    with w.db.transaction() as s:
        return s.scalars(select(m.Task.id).join(m.Promise).join(m.Team).where(
            m.Promise.key == "krogtillsyn", m.Task.joint.is_(True), m.Team.key == "lag-1")
            .order_by(m.Task.start_at)).first() or 0


def _risk_night(w: World) -> int:
    with w.db.transaction() as s:
        return s.scalars(select(m.Task.id).join(m.Team).where(
            m.Task.kind == "risk_night", m.Team.key == "lag-1")
            .order_by(m.Task.start_at)).first() or 0


def _answer(w: World, member_id: int, task_id: int, joins: bool, now: datetime) -> None:
    with w.db.transaction() as s:
        tasks.answer_invitation(s, s.get_one(m.Member, member_id), task_id, joins, now)


def _sent(w: World, now: datetime) -> list[Outgoing]:
    """What the outbox hands the chat layer at ``now`` (each row claimed and composed)."""
    out = []
    for rid in w.outbox.claim(now):
        message = w.outbox.compose(rid, now)
        if message is not None:
            out.append(message)
    return out


def _rows(w: World, kind: str) -> list[m.Reminder]:
    with w.db.transaction(write=False) as s:
        rows = list(s.scalars(select(m.Reminder).where(m.Reminder.kind == kind)
                              .order_by(m.Reminder.id)))
        s.expunge_all()
        return rows


def _day(task_start: datetime, days: int) -> datetime:
    """Noon local, ``days`` before the task's start: nobody's quiet hours."""
    local = task_start.astimezone(TZ) - timedelta(days=days)
    return local.replace(hour=12, minute=0)


def test_a_partner_who_joined_is_told_of_a_move_and_a_cancellation_and_one_who_declined_is_not(
        world: World) -> None:
    task_id = _joint_task(world)
    with world.db.transaction() as s:
        start = s.get_one(m.Task, task_id).start_at
    now = _day(start, 10)
    _answer(world, world.pia, task_id, True, now)
    _answer(world, world.per, task_id, False, now)
    with world.db.transaction() as s:
        tasks.move(s, world.ctx.sets, s.get_one(m.Member, world.olle), task_id,
                   start + timedelta(days=7), now)
    moved = [x for x in _sent(world, now) if x.kind == notices.MOVED]
    assert [x.member_id for x in moved] == [world.pia]
    assert moved[0].notice is not None and moved[0].notice.before == start.astimezone(TZ)
    assert moved[0].task is not None and moved[0].task.start == (start + timedelta(days=7))
    with world.db.transaction() as s:
        tasks.cancel(s, world.ctx.sets, s.get_one(m.Member, world.olle), task_id, "sjukdom",
                     now + timedelta(hours=1))
    cancelled = [x for x in _sent(world, now + timedelta(hours=1))
                 if x.kind == notices.CANCELLED]
    assert [x.member_id for x in cancelled] == [world.pia]


def test_a_notice_is_made_with_its_change_and_rolled_back_with_it(world: World) -> None:
    task_id = _joint_task(world)
    with world.db.transaction() as s:
        start = s.get_one(m.Task, task_id).start_at
    now = _day(start, 10)
    _answer(world, world.pia, task_id, True, now)
    with pytest.raises(RuntimeError), world.db.transaction() as s:
        tasks.move(s, world.ctx.sets, s.get_one(m.Member, world.olle), task_id,
                   start + timedelta(days=7), now)
        raise RuntimeError("the move fails after the notice was made")
    assert _rows(world, notices.MOVED) == []


def test_the_thanks_carries_the_counts_and_never_the_note(world: World) -> None:
    task_id = _joint_task(world)
    with world.db.transaction() as s:
        task = s.get_one(m.Task, task_id)
        start, end = task.start_at, task.end_at
    _answer(world, world.pia, task_id, True, _day(start, 5))
    with world.db.transaction() as s:
        olle = s.get_one(m.Member, world.olle)
        tasks.mark_done(s, olle, task_id, end)
        tasks.record_follow_up(s, olle, task_id, end, fields={"places_visited": 3},
                               note="3 ställen, anmärkning på Hotell X:s dörrvakt")
    morning = end.astimezone(TZ).replace(hour=9, minute=0)
    thanks = [x for x in _sent(world, morning) if x.kind == notices.THANKS]
    assert [x.member_id for x in thanks] == [world.pia]
    assert thanks[0].notice is not None
    assert thanks[0].notice.result == (("field", "places_visited", 3),)


def test_quiet_hours_hold_a_partners_message_until_seven_across_both_clock_changes(
        world: World) -> None:
    """The last Saturday evenings of March and October 2015: the night is an hour shorter,
    then longer, and the message still goes at 07:00 on the clock."""
    task_id = _joint_task(world)
    for evening, morning_utc in ((datetime(2015, 3, 28, 22, 30, tzinfo=TZ),
                                  datetime(2015, 3, 29, 5, 0, tzinfo=UTC)),
                                 (datetime(2015, 10, 24, 22, 30, tzinfo=TZ),
                                  datetime(2015, 10, 25, 6, 0, tzinfo=UTC))):
        with world.db.transaction() as s:
            task = s.get_one(m.Task, task_id)
            task.start_at = evening + timedelta(days=5)
            task.end_at = task.start_at + timedelta(hours=4)
            s.add(m.Reminder(task_id=task_id, member_id=world.pia, kind=f"x{evening.month}",
                             due_at=evening))
        assert _sent(world, evening) == []
        (row,) = _rows(world, f"x{evening.month}")
        assert row.state == ReminderState.PENDING and row.due_at == morning_utc
        assert _sent(world, morning_utc - timedelta(minutes=1)) == []
        assert [x.kind for x in _sent(world, morning_utc)] == [f"x{evening.month}"]


def test_a_message_whose_task_starts_before_morning_goes_at_once_and_police_have_no_quiet_hours(
        world: World) -> None:
    task_id = _joint_task(world)
    with world.db.transaction() as s:
        start = s.get_one(m.Task, task_id).start_at  # 22:00 local
        s.add(m.Reminder(task_id=task_id, member_id=world.pia, kind="partner_3h",
                         due_at=start - timedelta(hours=1)))
        s.add(m.Reminder(task_id=task_id, member_id=world.olle, kind="team_7d",
                         due_at=start - timedelta(hours=1)))
    sent = _sent(world, start - timedelta(hours=1))
    assert sorted(x.kind for x in sent) == ["partner_3h", "team_7d"]


def test_a_role_may_be_given_quiet_hours_and_a_partner_none(world: World) -> None:
    ps = world.ctx.sets[("arvidsjaur", 2015)]
    world.ctx.sets[("arvidsjaur", 2015)] = ps.model_copy(update={"quiet_hours": {
        "officer": ps.quiet_hours.get("officer") or _window("22:00-06:00"), "partner": "none"}})
    task_id = _joint_task(world)
    with world.db.transaction() as s:
        start = s.get_one(m.Task, task_id).start_at
        late = start.astimezone(TZ) - timedelta(days=7) + timedelta(minutes=30)  # 22:30
        s.add(m.Reminder(task_id=task_id, member_id=world.pia, kind="partner_x", due_at=late))
        s.add(m.Reminder(task_id=task_id, member_id=world.olle, kind="team_x", due_at=late))
    assert [x.kind for x in _sent(world, late)] == ["partner_x"]
    (held,) = _rows(world, "team_x")
    assert held.due_at.astimezone(TZ).hour == 6


def _window(text: str) -> object:
    from medlofte_bot.domain.promise_set import TimeWindow

    return TimeWindow.model_validate(text)


def _first_school_control_missed(world: World) -> tuple[int, datetime]:
    """lag-1's first school control goes unconfirmed, every other task by then is done;
    its id and the morning a week after its end (not at night, so nothing waits)."""
    with world.db.transaction() as s:
        task = s.scalars(select(m.Task).join(m.Promise).join(m.Team).where(
            m.Promise.key == "skolkontroller", m.Team.key == "lag-1")
            .order_by(m.Task.start_at)).first()
        assert task is not None
        task_id, end = task.id, task.end_at
    now = (end + tasks.MISSED_AFTER).astimezone(TZ).replace(hour=9, minute=0)
    with world.db.transaction() as s:
        for other in s.scalars(select(m.Task).where(m.Task.id != task_id,
                                                     m.Task.end_at < now - tasks.MISSED_AFTER)):
            other.status = TaskStatus.DONE
    return task_id, now


def test_a_missed_task_is_told_to_its_team_and_the_coordinators_with_its_replacement(
        world: World) -> None:
    task_id, now = _first_school_control_missed(world)
    world.outbox.prepare(now)
    with world.db.transaction(write=False) as s:
        assert s.get_one(m.Task, task_id).status == TaskStatus.MISSED
    told = [x for x in _sent(world, now) if x.kind == notices.MISSED]
    assert sorted(x.member_id or 0 for x in told) == sorted([world.olle, world.cora])
    notice = next(x.notice for x in told if x.member_id == world.cora)
    assert notice is not None and notice.target_holds is True
    assert len(notice.replaced_by) == 1 and notice.replaced_by[0].start > now
    assert notice.replaced_by[0].kind == "school_traffic_control"
    officer = next(x.notice for x in told if x.member_id == world.olle)
    assert officer is not None  # named to him only if his team took it
    assert len(officer.replaced_by) + officer.replaced_elsewhere == 1


def test_a_task_missed_long_ago_is_not_news(world: World) -> None:
    """The bot started (or came back) long after: the task is marked missed and re-planned,
    and the weekly summary lists it; nobody gets a late notice about it."""
    with world.db.transaction() as s:
        task = s.scalars(select(m.Task).join(m.Promise).where(
            m.Promise.key == "skolkontroller").order_by(m.Task.start_at)).first()
        assert task is not None
        end = task.end_at
    world.outbox.prepare(end + tasks.MISSED_AFTER + timedelta(days=3))
    assert _rows(world, notices.MISSED) == []


def _per_declined(world: World) -> tuple[int, datetime]:
    """A joint task Per declined; its id, and noon three days before it (when the
    coordinator's alert is due)."""
    task_id = _joint_task(world)
    with world.db.transaction() as s:
        start = s.get_one(m.Task, task_id).start_at
    now = _day(start, 3)
    _answer(world, world.per, task_id, False, now - timedelta(days=5))
    return task_id, now


def test_the_no_partner_alert_names_who_declined_and_offers_what_to_do(world: World) -> None:
    task_id, now = _per_declined(world)
    with world.db.transaction() as s:
        s.add(m.Reminder(task_id=task_id, member_id=world.cora, kind=notices.NO_PARTNER,
                         due_at=now))
    (alert,) = _sent(world, now)
    assert alert.buttons == "no_partner" and alert.notice is not None
    assert alert.notice.names == ("Per",)


def test_asking_again_reaches_the_partner_who_declined(world: World) -> None:
    task_id, now = _per_declined(world)
    with world.db.transaction() as s:
        view, asked = tasks.ask_partners_again(s, s.get_one(m.Member, world.cora), task_id, now)
    assert asked == 2 and view.id == task_id
    again = _sent(world, now)
    assert sorted(x.member_id or 0 for x in again) == sorted([world.pia, world.per])
    assert {x.buttons for x in again} == {"join"}
    with world.db.transaction(write=False) as s:
        assert s.scalar(select(m.AuditEntry.action).where(
            m.AuditEntry.action == "asked_again")) == "asked_again"


def test_an_officer_may_not_steer_a_joint_task(world: World) -> None:
    from medlofte_bot.domain.errors import NotAllowed

    task_id = _joint_task(world)
    with pytest.raises(NotAllowed), world.db.transaction() as s:
        tasks.police_only(s, s.get_one(m.Member, world.olle), task_id, NEW_YEAR)


def _bar_inspections(s: Session, world: World, at: datetime) -> PromiseStatus:
    """The bar-inspection promise's line as the coordinator reads it at ``at``."""
    return next(r for r in promise_status(s, world.ctx.sets, s.get_one(m.Member, world.cora),
                                          at) if r.promise == "krogtillsyn")


def test_a_joint_task_run_with_police_only_counts_to_the_promise_not_its_joint_part(
        world: World) -> None:
    task_id = _joint_task(world)
    with world.db.transaction() as s:
        task = s.get_one(m.Task, task_id)
        start, end = task.start_at, task.end_at
        s.add(m.Reminder(task_id=task_id, member_id=world.pia, kind="partner_3h",
                         due_at=start - timedelta(hours=3)))
    now = _day(start, 2)
    with world.db.transaction() as s:
        before = _bar_inspections(s, world, now)
        tasks.police_only(s, s.get_one(m.Member, world.cora), task_id, now)
    with world.db.transaction() as s:
        assert s.get_one(m.Task, task_id).joint is False
        assert s.scalar(select(m.AuditEntry.after).where(
            m.AuditEntry.action == "police_only")) == {"joint": False}
        assert s.scalars(select(m.Reminder).where(m.Reminder.kind == "partner_3h")).all() == []
        tasks.mark_done(s, s.get_one(m.Member, world.olle), task_id, end)
    with world.db.transaction() as s:
        after = _bar_inspections(s, world, end)
    assert after.done == before.done + 1
    assert after.joint_done == before.joint_done == 0
    assert after.joint_target == 2


def test_risk_night_invitees_answer_and_those_who_came_are_counted_and_reported(
        world: World) -> None:
    night = _risk_night(world)
    with world.db.transaction() as s:
        task = s.get_one(m.Task, night)
        start, end = task.start_at, task.end_at
        s.add(m.Reminder(task_id=night, member_id=world.fia, kind="partners_7d",
                         due_at=_day(start, 7)))
    (invitation,) = _sent(world, _day(start, 7))
    assert invitation.buttons == "rsvp"
    _answer(world, world.fia, night, True, _day(start, 6))
    with world.db.transaction() as s:
        s.add(m.Reminder(task_id=night, member_id=world.fia, kind="partners_1d",
                         due_at=_day(start, 1)))
    (reminder,) = _sent(world, _day(start, 1))
    assert reminder.buttons is None  # she answered already
    with world.db.transaction() as s:
        tasks.mark_done(s, s.get_one(m.Member, world.olle), night, end)
        line = next(r for r in promise_status(s, world.ctx.sets,
                                              s.get_one(m.Member, world.cora), end)
                    if r.promise == "riskkvallar")
        report = year_report(s, world.ctx.sets[("arvidsjaur", 2015)], end)
    assert line.partners_came == 1
    assert report is not None
    row = next(t for p in report.promises for t in p.tasks if t.id == night)
    assert row.partners_joined == ("Fia",)
    thanks = [x for x in _sent(world, end.astimezone(TZ).replace(hour=9) + timedelta(days=0))
              if x.kind == notices.THANKS]
    assert [x.member_id for x in thanks] == [world.fia]


def test_a_partners_summary_covers_her_sets_with_it_on_and_names_no_officer_and_no_note(
        world: World) -> None:
    from medlofte_bot.chat.render import summary_text
    from medlofte_bot.services.summary import build_summary

    ps = world.ctx.sets[("arvidsjaur", 2015)]
    task_id = _joint_task(world)
    with world.db.transaction() as s:
        task = s.get_one(m.Task, task_id)
        start, end = task.start_at, task.end_at
    _answer(world, world.pia, task_id, True, _day(start, 5))
    with world.db.transaction() as s:
        tasks.mark_done(s, s.get_one(m.Member, world.olle), task_id, end,
                        note="anmärkning på Hotell X")
    monday = end + timedelta(days=2)
    with world.db.transaction() as s:
        pia, cora = s.get_one(m.Member, world.pia), s.get_one(m.Member, world.cora)
        on = build_summary(s, {("arvidsjaur", 2015): ps.model_copy(
            update={"partner_summary": True})}, pia, monday)
        off = build_summary(s, {("arvidsjaur", 2015): ps}, pia, monday)
        chief = build_summary(s, {("arvidsjaur", 2015): ps}, cora, monday)
    assert off.promises == []
    assert {r.year for r in on.promises} == {2015}
    assert "narkotika" not in {r.promise for r in on.promises}
    text = summary_text(on, "sv")
    assert "Arvidsjaur 2015:" in text and f"#{task_id} " in text
    assert "Olle" not in text and "Hotell" not in text
    assert "Olle: anmärkning på Hotell X" in summary_text(chief, "sv")


def test_migration_0009_adds_the_notice_detail_and_keeps_existing_rows(db_url: str) -> None:
    """A reminder stored before 0009 survives the upgrade with no detail; 0009 can be
    undone."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect, text

    from medlofte_bot.storage.database import MIGRATIONS, make_engine, migrate

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    before = ScriptDirectory.from_config(cfg).get_revision("0009").down_revision
    assert isinstance(before, str)
    engine = make_engine(db_url)
    migrate(engine, before)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO reminder (subject, kind, recipient, chat_id, due_at, state, attempts,"
            " late, error) VALUES ('week:2015-03-02', 'weekly_summary', 'chat:7', 7,"
            " '2015-03-02 06:00:00+00:00', 'pending', 0, false, '')"))
    migrate(engine)
    assert "detail" in {c["name"] for c in inspect(engine).get_columns("reminder")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kind, detail FROM reminder")).one() == \
            ("weekly_summary", None)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, before)
    assert "detail" not in {c["name"] for c in inspect(engine).get_columns("reminder")}
    engine.dispose()


def test_a_replacement_another_team_took_is_not_named_to_the_team_that_missed(
        world: World) -> None:
    """Found by the hostile suite: the team's group read the time of another team's
    police-only task in "Ersatt av …"."""
    _, now = _first_school_control_missed(world)
    world.outbox.prepare(now)
    (row, *_) = _rows(world, notices.MISSED)
    assert row.detail is not None
    with world.db.transaction() as s:  # the planner gave the new time to the other team
        lag2 = s.scalar(select(m.Team.id).where(m.Team.key == "lag-2"))
        for new_id in row.detail["replaced_by"]:
            s.get_one(m.Task, new_id).team_id = lag2
    told = {x.member_id: x.notice for x in _sent(world, now) if x.kind == notices.MISSED}
    olle, cora = told[world.olle], told[world.cora]
    assert olle is not None and olle.replaced_by == () and olle.replaced_elsewhere == 1
    assert cora is not None and len(cora.replaced_by) == 1 and cora.replaced_elsewhere == 0
