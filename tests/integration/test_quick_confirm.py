"""A plain "klar" in reply to a task's message, on the common path, in plain statements
(tasks.quick_confirm): it stores what mark_done stores and answers with the same view; off
the common path it writes nothing and leaves the answer to mark_done (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from seeding import bar_inspection_area
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.domain.states import MessageKind
from medlofte_bot.services import tasks
from medlofte_bot.services.disclosure import Disclosure
from medlofte_bot.storage import models as m

NOW = datetime(2015, 3, 6, 22, tzinfo=UTC)
ANNA, PIA, KIM = 601, 602, 603  # an officer of lag-1, a partner, the chief


def _world(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Arvidsjaur's bar inspections: one task per case, each with a reminder to Anna (message
    id = task id), and the same reminder to Pia and Kim; returns task ids by case."""
    with sessions.begin() as s:
        muni, promise, team = bar_inspection_area(s)
        people = [m.Member(telegram_id=tid, display_name=name, role=role, team_id=team_id,
                           municipality_id=muni.id, partner_role=partner,
                           created_at=NOW - timedelta(days=9))
                  for tid, name, role, team_id, partner in (
                      (ANNA, "Anna", "officer", team.id, None),
                      (PIA, "Pia", "partner", None, "alkoholhandlaggare"),
                      (KIM, "Kim", "chief", None, None))]
        s.add_all(people)
        cases: dict[str, dict[str, Any]] = {
            "common": {},
            "far_ahead": {"start": NOW + timedelta(days=2)},
            "joint": {"joint": True},
            "partners_invited": {"invited": ["alkoholhandlaggare"]},
            "done_before": {"status": "done"},
            "cancelled": {"status": "cancelled"},
        }
        rows = {}
        for case, extra in cases.items():
            start = extra.get("start", NOW - timedelta(hours=1))
            rows[case] = m.Task(
                promise_id=promise.id, key=case, kind="bar_inspection", start_at=start,
                end_at=start + timedelta(hours=3), team_id=team.id, visibility="public",
                joint=bool(extra.get("joint", False)), invited=extra.get("invited", []),
                status=extra.get("status", "pending"), updated_at=NOW)
        s.add_all(rows.values())
        s.flush()
        s.add(m.Completion(task_id=rows["done_before"].id, member_id=people[0].id,
                           done_at=NOW - timedelta(hours=2)))
        for row in rows.values():
            for person in people:
                s.add(m.SentMessage(chat_id=person.telegram_id, message_id=row.id,
                                    kind=MessageKind.REMINDER, task_id=row.id,
                                    member_id=person.id, sent_at=NOW - timedelta(hours=3)))
        s.add(m.SentMessage(chat_id=ANNA, message_id=9000, kind=MessageKind.PROMPT_MOVE,
                            task_id=rows["common"].id, sent_at=NOW - timedelta(hours=3)))
        return {case: row.id for case, row in rows.items()}


def _written(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as s:
        return (s.scalar(select(func.count()).select_from(m.Completion)) or 0,
                s.scalar(select(func.count()).select_from(m.AuditEntry)) or 0)


def test_a_plain_klar_on_the_common_path_stores_what_mark_done_stores_and_the_same_view(
        sessions: sessionmaker[Session]) -> None:
    ids = _world(sessions)
    before = _written(sessions)
    disclosure = Disclosure(web_base="https://medlofte.example")
    with sessions.begin() as s:
        found = tasks.quick_confirm(s.connection(), ANNA, ANNA, ids["common"], NOW, disclosure)
    assert found is not None
    member, done = found
    assert (member.name, member.role, member.police) == ("Anna", "officer", True)
    assert not done.already and not done.early and done.by == "Anna" and done.at == NOW
    assert _written(sessions) == (before[0] + 1, before[1] + 1)
    with sessions() as s:
        row = s.get(m.Task, ids["common"])
        assert row is not None and row.status == "done"
        # the view the ORM path builds of the stored row is the one the answer carries
        assert done.task == tasks.view(s, row, disclosure)
        audit = s.scalars(select(m.AuditEntry).where(m.AuditEntry.action == "done")).one()
        assert (audit.actor, audit.entity_id, audit.after) == (
            f"member:{member.id}", str(ids["common"]), {"status": "done", "note": ""})
    assert done.task.page == f"https://medlofte.example/webb/uppdrag/{ids['common']}"
    assert done.task.start.utcoffset() == timedelta(hours=1), "Swedish winter time"


@pytest.mark.parametrize(("who", "case", "message"), [
    (ANNA, "far_ahead", None),  # mark_done asks "already done?" first
    (ANNA, "joint", None),  # the view counts the partners who joined
    (ANNA, "partners_invited", None),  # partners who joined are thanked
    (ANNA, "done_before", None),  # mark_done says who was first
    (ANNA, "cancelled", None),  # mark_done says it was cancelled
    (ANNA, "common", 9000),  # a reply to a prompt (move) means a time, not done
    (PIA, "common", None),  # a partner may not confirm police work: mark_done refuses
    (KIM, "common", None),  # a leader's area needs a query: the general path
    (604, "common", None),  # no such member
])
def test_off_the_common_path_nothing_is_written_and_mark_done_answers(
        sessions: sessionmaker[Session], who: int, case: str, message: int | None) -> None:
    ids = _world(sessions)
    before = _written(sessions)
    with sessions.begin() as s:
        assert tasks.quick_confirm(s.connection(), who, who, message or ids[case], NOW) is None
    assert _written(sessions) == before
    with sessions() as s:
        row = s.get(m.Task, ids[case])
        assert row is not None and row.updated_at == NOW


def test_a_reply_in_another_chat_finds_no_message_there(
        sessions: sessionmaker[Session]) -> None:
    """Message ids repeat across chats: Anna's reply is read against her own chat's log."""
    ids = _world(sessions)
    with sessions.begin() as s:
        assert tasks.quick_confirm(s.connection(), ANNA, -100123, ids["common"], NOW) is None
    assert _written(sessions)[0] == 1  # only the done_before completion
