"""Need-to-know across municipalities and police areas, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from seeding import variant_set as _variant
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.domain.errors import NotFound
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import MessageKind
from medlofte_bot.services import members, tasks
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.status import promise_status
from medlofte_bot.storage import models as m

NOW = datetime(2015, 1, 1, 6, tzinfo=UTC)


# the `area` fixture (conftest): three municipalities planned, and their promise sets
Sets = dict[tuple[str, int], PromiseSet]
World = tuple[sessionmaker[Session], Sets]


def _member(s: Session, sets: Sets, role: str, slug: str | None, telegram_id: int
            ) -> m.Member:
    invite = members.create_invite(s, sets, role, NOW, municipality=slug)
    return members.redeem(s, invite.code, telegram_id, role, "sv", NOW)


def test_a_chief_sees_the_municipalities_of_their_police_area_only(area: World) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        chief = _member(s, sets, "chief", "arvidsjaur", 10)
        seen = tasks.visible_tasks(s, chief, NOW, NOW + timedelta(days=365))
        munis = {t.id: t for t in seen}
        kiruna_task = s.scalars(select(m.Task).join(m.Promise).join(m.Municipality).where(
            m.Municipality.slug == "kiruna")).first()
        assert kiruna_task is not None and kiruna_task.id not in munis
        slugs = set(s.scalars(select(m.Municipality.slug).join(m.Promise).join(m.Task).where(
            m.Task.id.in_(list(munis)))))
        assert slugs == {"arvidsjaur", "arjeplog"}
        with pytest.raises(NotFound):
            tasks.get_visible(s, chief, kiruna_task.id)
        titles = {(r.promise, r.target) for r in promise_status(s, sets, chief, NOW)}
        assert len(promise_status(s, sets, chief, NOW)) == 2 * 6 and titles


def test_a_coordinator_from_the_settings_sees_every_area(area: World) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        admin = members.ensure_coordinator(s, 1, "Cora", NOW)
        assert len(promise_status(s, sets, admin, NOW)) == 3 * 6
        kiruna_task = s.scalars(select(m.Task).join(m.Promise).join(m.Municipality).where(
            m.Municipality.slug == "kiruna")).first()
        assert kiruna_task is not None
        assert tasks.get_visible(s, admin, kiruna_task.id).id == kiruna_task.id


def test_an_officer_follows_the_promises_of_their_team_municipality(area: World) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        team = s.scalars(select(m.Team).where(
            m.Team.police_area == "LPO Piteå Älvdal", m.Team.key == "lag-1")).one()
        invite = members.create_invite(s, sets, "officer", NOW, team="lag-1",
                                        municipality="arjeplog")
        assert invite.team_id == team.id
        officer = members.redeem(s, invite.code, 20, "Olle", "sv", NOW)
        rows = promise_status(s, sets, officer, NOW)
        assert len(rows) == 6


def test_a_team_name_used_in_several_municipalities_must_be_told_apart(area: World) -> None:
    from medlofte_bot.domain.errors import UserError

    sessions, sets = area
    with sessions.begin() as s, pytest.raises(UserError) as err:
        members.create_invite(s, sets, "officer", NOW, team="lag-1")
    assert err.value.key == "invite_team_ambiguous"
    assert "kiruna" in err.value.params["municipalities"]


def test_a_reply_is_matched_to_the_message_in_its_own_chat(area: World) -> None:
    from medlofte_bot.services.reminders import log_sent, replied_task

    sessions, _ = area
    with sessions.begin() as s:
        first, second = s.scalars(select(m.Task.id).order_by(m.Task.id).limit(2)).all()
        log_sent(s, 111, 5, MessageKind.CARD, first, None, NOW)
        log_sent(s, 222, 5, MessageKind.CARD, second, None, NOW)
        log_sent(s, 222, 5, MessageKind.PROMPT_MOVE, first, None, NOW)  # the same message twice
    with sessions() as s:
        assert s.scalar(select(func.count(m.SentMessage.id))) == 2, "logged once per message"
    with sessions() as s:
        assert replied_task(s, 111, 5) == (first, "card")
        assert replied_task(s, 222, 5) == (second, "card")
        assert replied_task(s, 333, 5) is None


def test_due_reminders_are_sent_one_chat_at_a_time_in_turn(area: World) -> None:
    from medlofte_bot.services.reminders import round_robin_by_chat

    sessions, _ = area
    with sessions.begin() as s:
        task_ids = s.scalars(select(m.Task.id).order_by(m.Task.id).limit(3)).all()
        rows = [m.Reminder(task_id=t, kind="x", chat_id=chat, due_at=NOW)
                for chat, t in [(1, task_ids[0]), (1, task_ids[1]), (1, task_ids[2]),
                                (2, task_ids[0]), (2, task_ids[1])]]
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
        turns = round_robin_by_chat(s, ids)
        assert [rid for rid, _ in turns] == [ids[0], ids[3], ids[1], ids[4], ids[2]]
        assert [chat for _, chat in turns] == ["chat:1", "chat:2", "chat:1", "chat:2", "chat:1"]
        assert round_robin_by_chat(s, []) == []


def test_area_alerts_go_to_the_coordinators_of_that_area_only(area: World) -> None:
    from medlofte_bot.services.outbox import Outbox
    from medlofte_bot.services.reminders import ensure_reminders

    sessions, sets = area
    with sessions.begin() as s:
        here = _member(s, sets, "coordinator", "arjeplog", 30)  # LPO Piteå Älvdal, as Arvidsjaur
        _member(s, sets, "coordinator", "kiruna", 31)  # another police area
        admin = members.ensure_coordinator(s, 1, "Cora", NOW)
        joint = s.scalars(select(m.Task).join(m.Promise).join(m.Municipality).where(
            m.Municipality.slug == "arvidsjaur", m.Task.joint.is_(True))
            .order_by(m.Task.start_at)).first()
        assert joint is not None
        ensure_reminders(s, joint.start_at - timedelta(days=3) + timedelta(minutes=1))
        alerted = set(s.scalars(select(m.Reminder.member_id).where(
            m.Reminder.task_id == joint.id, m.Reminder.kind == "no_partner_3d")))
        assert alerted == {here.id, admin.id}
        officer = members.redeem(s, members.create_invite(
            s, sets, "officer", NOW, team="lag-1", municipality="arvidsjaur").code, 40, "Olle",
            "sv", NOW)
        Outbox._unreachable(s, officer.id, NOW)
        told = set(s.scalars(select(m.Reminder.member_id).where(
            m.Reminder.kind == "unreachable")))
        assert told == {here.id, admin.id}


def test_partner_summaries_follow_each_promise_sets_own_setting(area: World) -> None:
    from zoneinfo import ZoneInfo

    from medlofte_bot.services.reminders import SUMMARY_KIND, ensure_summaries

    sessions, sets = area
    with sessions.begin() as s:
        partners = {slug: members.redeem(s, members.create_invite(
            s, sets, "partner", NOW, municipality=slug, partner_role="alkoholhandlaggare").code,
            50 + n, "Pia", "sv", NOW) for n, slug in enumerate(("arvidsjaur", "kiruna"))}
        monday = NOW + timedelta(days=(7 - NOW.weekday()) % 7, hours=7)
        ensure_summaries(s, monday, ZoneInfo("Europe/Stockholm"), frozenset({"kiruna"}))
        got = set(s.scalars(select(m.Reminder.member_id).where(
            m.Reminder.kind == SUMMARY_KIND)))
        assert partners["kiruna"].id in got and partners["arvidsjaur"].id not in got


def test_one_invite_registers_one_person_when_several_redeem_it_at_once(db_url: str) -> None:
    """Found by the hostile suite on PostgreSQL: three newcomers sending /start CODE at the
    same moment were all registered by one single-use invite."""
    import threading

    from medlofte_bot.domain.errors import UserError
    from medlofte_bot.storage.database import Database

    db = Database(db_url)
    db.migrate()
    sets = {(x.promise_set.slug, 2015): x.promise_set for x in [_variant("arvidsjaur", "A")]}
    with db.transaction() as s:
        apply_promise_set(s, _variant("arvidsjaur", "A"), NOW)
        code = members.create_invite(s, sets, "chief", NOW, municipality="arvidsjaur").code
    start, outcomes = threading.Barrier(4), []

    def redeem(telegram_id: int) -> None:
        start.wait()
        try:
            with db.transaction() as s:
                members.redeem(s, code, telegram_id, "Ny", "sv", NOW)
            outcomes.append("joined")
        except UserError as exc:
            outcomes.append(exc.key)

    threads = [threading.Thread(target=redeem, args=(700 + n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with db.transaction(write=False) as s:
        chiefs = s.scalars(select(m.Member).where(m.Member.role == "chief")).all()
    db.dispose()
    assert sorted(outcomes) == ["invite_used"] * 3 + ["joined"], outcomes
    assert len(chiefs) == 1
