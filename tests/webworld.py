"""The world the web view's tests read: the three-municipality police area of
config/lpo-pitea-alvdal and one municipality of another area, applied on New Year's morning
2015 and played to 10 March: a police-only operation and a school control done, a joint bar
inspection that a partner joined, a task moved, and Monday summaries kept as sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seeding import variant_set
from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.configuration import load_many
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.reminders import SUMMARY_KIND
from medlofte_bot.services.usecases import UseCases
from medlofte_bot.services.views import Actor
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database

AREA = Path(__file__).parents[1] / "config" / "lpo-pitea-alvdal"
START = datetime(2015, 1, 1, 5, 0, tzinfo=UTC)
NOW = datetime(2015, 3, 10, 11, 0, tzinfo=UTC)  # Tuesday 10 March, 12.00 in Arvidsjaur
CHIEF_SUMMARY = "Måndag 9 mars: Arvidsjaur\n• Narkotikainsatser 1 av 6 (polisens egen)"
PARTNER_SUMMARY = "Måndag 9 mars: Arvidsjaur (partner)\n• Krogtillsyner 1 av 6"


@dataclass
class World:
    """A played area: the services over it, its people (Telegram ids) and its tasks."""

    db: Database
    ctx: ServiceContext
    clock: ManualClock
    usecases: UseCases
    people: dict[str, int] = field(default_factory=dict)  # who -> telegram id
    tasks: dict[str, int] = field(default_factory=dict)  # which -> task id

    def actor(self, who: str) -> Actor:
        """The person as the chat layer sees them."""
        return Actor(self.people[who], who.title())


def _member(s: Session, telegram_id: int, name: str, role: str, slug: str | None,
            team: str | None = None, partner_role: str | None = None) -> None:
    muni = s.scalar(select(m.Municipality).where(m.Municipality.slug == slug)) if slug else None
    team_row = s.scalar(select(m.Team).where(m.Team.key == team,
                                             m.Team.police_area == muni.police_area)) \
        if team and muni else None
    s.add(m.Member(telegram_id=telegram_id, display_name=name, role=role,
                   municipality_id=muni.id if muni else None,
                   team_id=team_row.id if team_row else None, partner_role=partner_role,
                   language="sv", created_at=START))


def _first(s: Session, slug: str, **where: object) -> m.Task:
    query = select(m.Task).join(m.Promise).join(m.Municipality).where(
        m.Municipality.slug == slug).order_by(m.Task.start_at, m.Task.id)
    for name, value in where.items():
        if name == "before":
            query = query.where(m.Task.start_at < value)
        elif name == "after":
            query = query.where(m.Task.start_at > value)
        else:
            query = query.where(getattr(m.Task, name) == value)
    found: m.Task | None = s.scalars(query).first()
    assert found is not None, where
    return found


def build_world(url: str) -> World:
    """Apply the sets, add the people, play the first weeks (see the module's docstring)."""
    db = Database(url)
    db.migrate()
    clock = ManualClock(START)
    loaded = [*load_many([AREA]), variant_set("annanstad", "LPO Annat område")]
    with db.transaction() as s:
        for one in loaded:
            apply_promise_set(s, one, START)
    sets = {(x.promise_set.slug, x.promise_set.year): x.promise_set for x in loaded}
    ctx = ServiceContext(db, sets, clock)
    world = World(db, ctx, clock, UseCases(ctx))
    world.people = {"kim": 101, "olle": 102, "pia": 103, "otto": 104, "cora": 105,
                    "gone": 106}
    with db.transaction() as s:
        _member(s, 101, "Kim", "chief", "arvidsjaur")
        _member(s, 102, "Olle", "officer", "arvidsjaur", team="lag-1")
        _member(s, 103, "Pia", "partner", "arvidsjaur", partner_role="alkoholhandlaggare")
        _member(s, 104, "Otto", "chief", "annanstad")
        _member(s, 105, "Cora", "coordinator", "arvidsjaur")
        _member(s, 106, "Gunnar", "officer", "arvidsjaur", team="lag-1")
        police = _first(s, "arvidsjaur", kind="narcotics_operation",
                        before=NOW - timedelta(days=1))
        school = _first(s, "arvidsjaur", kind="school_traffic_control",
                        before=NOW - timedelta(days=1))
        joint = _first(s, "arvidsjaur", joint=True, after=NOW)
        later = _first(s, "arvidsjaur", kind="narcotics_operation", after=NOW)
        other = _first(s, "annanstad", after=START)
        world.tasks = {"police_done": police.id, "school_done": school.id, "joint": joint.id,
                       "police_later": later.id, "other_area": other.id}
    clock.current = NOW
    uc = world.usecases
    olle_team = _team_of(world, "olle")
    for key in ("police_done", "school_done"):
        with db.transaction() as s:
            task = s.get(m.Task, world.tasks[key])
            assert task is not None
            owner = task.team_id
        actor = world.actor("olle") if owner == olle_team else world.actor("kim")
        uc.confirm(actor, world.tasks[key], "klar, 3 ställen")
    uc.answer_invitation(world.actor("pia"), world.tasks["joint"], True)
    with db.transaction(write=False) as s:
        later_row = s.get(m.Task, world.tasks["police_later"])
        assert later_row is not None
        moved_to = later_row.start_at + timedelta(days=1)
    uc.move(world.actor("olle"), world.tasks["police_later"], start=moved_to)
    _summaries(world)
    return world


def _team_of(world: World, who: str) -> int | None:
    with world.db.transaction(write=False) as s:
        member = s.scalar(select(m.Member).where(m.Member.telegram_id == world.people[who]))
        return member.team_id if member else None


def _summaries(world: World) -> None:
    """Monday summaries as the outbox keeps them once sent: the chief's (police) and the
    partner's."""
    sent = datetime(2015, 3, 9, 6, 0, tzinfo=UTC)
    with world.db.transaction() as s:
        for who, text, police in (("kim", CHIEF_SUMMARY, True), ("pia", PARTNER_SUMMARY, False)):
            member = s.scalar(select(m.Member).where(
                m.Member.telegram_id == world.people[who]))
            assert member is not None
            s.add(m.Reminder(subject="week:2015-03-09", kind=SUMMARY_KIND,
                             member_id=member.id, due_at=sent, state="sent", sent_at=sent,
                             detail={"text": text, "police": police}))
