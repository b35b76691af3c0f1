"""SQLAlchemy models: the database is the truth for plans, reminders and what was done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from medlofte_bot.domain.states import MessageKind, ReminderState, Role, TaskStatus, Visibility
from medlofte_bot.storage.types import StrEnumColumn, UTCDateTime


class Base(DeclarativeBase):
    """Declarative base with aware-UTC datetimes and JSON for dicts."""

    # SQLAlchemy reads this class attribute by name; it is never mutated
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Municipality(Base):
    """A municipality and the police area it makes promises with."""

    __tablename__ = "municipality"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    police_area: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5), default="sv")


class PromiseSetRow(Base):
    """One applied promise-set file: municipality and year, with the digest last applied."""

    __tablename__ = "promise_set"
    __table_args__ = (UniqueConstraint("municipality_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    year: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[datetime]
    notes_kept_months: Mapped[int | None]  # as last applied; None: notes are kept


class Team(Base):
    """A police team of a police area; may have a group chat where team reminders go.

    A team belongs to the area, not to a municipality: the same key in two municipalities'
    files of one area is one team (one row, one calendar). ``municipality_id`` is the
    municipality that named it first."""

    __tablename__ = "team"
    __table_args__ = (Index("uq_team_area_key", "police_area", "key", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    police_area: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger)


class Promise(Base):
    """One promise of a year: its target and the rules it was planned by."""

    __tablename__ = "promise"
    __table_args__ = (UniqueConstraint("municipality_id", "year", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    year: Mapped[int]
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[int | None]
    joint_target: Mapped[int] = mapped_column(default=0)
    visibility: Mapped[Visibility] = mapped_column(StrEnumColumn(Visibility, 10))
    spec: Mapped[dict[str, Any]]
    # the coordinator's comment for the year report (/kommentar); None: the file's, if any
    comment: Mapped[str | None] = mapped_column(Text)
    comment_by: Mapped[int | None]  # the member who wrote it (kept if they leave)
    comment_at: Mapped[datetime | None]
    municipality: Mapped[Municipality] = relationship(lazy="joined")


class Task(Base):
    """A planned task; its id is what people type (/klar 17)."""

    __tablename__ = "task"
    __table_args__ = (
        UniqueConstraint("promise_id", "key"),
        Index("ix_task_start", "start_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("promise.id"))
    key: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(40))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    joint: Mapped[bool] = mapped_column(default=False)
    vehicle: Mapped[str | None] = mapped_column(String(10))
    visibility: Mapped[Visibility] = mapped_column(StrEnumColumn(Visibility, 10))
    label: Mapped[str] = mapped_column(String(200), default="")
    partner_role: Mapped[str | None] = mapped_column(String(40))
    invited: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[TaskStatus] = mapped_column(StrEnumColumn(TaskStatus, 10),
                                               default=TaskStatus.PENDING)
    moved: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    promise: Mapped[Promise] = relationship(lazy="joined")
    team: Mapped[Team | None] = relationship(lazy="joined")


class Member(Base):
    """A person in the bot: only a Telegram id, a display name, a role and a language."""

    __tablename__ = "member"
    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(StrEnumColumn(Role, 12))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"))
    partner_role: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="sv")
    active: Mapped[bool] = mapped_column(default=True)
    unreachable: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]  # the name is replaced by the role some time after
    name_cleared_at: Mapped[datetime | None]
    team: Mapped[Team | None] = relationship()  # loaded when read: most answers need no team


class Completion(Base):
    """That a task was done, by whom and when, with the follow-up's counts and note."""

    __tablename__ = "completion"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    done_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    counters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)


def recipient_key(member_id: int | None, chat_id: int | None) -> str:
    """'member:5' for a member's private chat, 'chat:-1001' for a group."""
    return f"member:{member_id}" if member_id is not None else f"chat:{chat_id}"


def task_subject(task_id: int) -> str:
    """What a task's reminders are about."""
    return f"task:{task_id}"


def member_subject(member_id: int) -> str:
    """What an alert about a member is about."""
    return f"member:{member_id}"


def subject_id(subject: str) -> int:
    """The id in a subject ('member:5' -> 5)."""
    return int(subject.split(":", 1)[1])


class Reminder(Base):
    """A message the outbox owes one recipient: due at a UTC instant, claimed, then sent once.

    ``subject`` says what it is about ("task:17", "week:2015-03-02", "member:5") and
    ``recipient`` whom it goes to ("member:5" or "chat:-1001"); neither is ever NULL, so
    the unique index on (subject, kind, recipient) fires and a second insert is a no-op.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("subject", "kind", "recipient", name="uq_reminder_once"),
        Index("ix_reminder_due", "state", "due_at"),
        Index("ix_reminder_task", "task_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    due_at: Mapped[datetime]
    state: Mapped[ReminderState] = mapped_column(StrEnumColumn(ReminderState, 10),
                                                 default=ReminderState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(60))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    late: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str] = mapped_column(Text, default="")
    # what a notice says beyond its task (moved from when, what the re-plan did); or None
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def __init__(self, **kw: Any) -> None:
        """A task reminder may be made from its task and recipient alone: the keys follow."""
        if "subject" not in kw and kw.get("task_id") is not None:
            kw["subject"] = task_subject(kw["task_id"])
        if "recipient" not in kw:
            kw["recipient"] = recipient_key(kw.get("member_id"), kw.get("chat_id"))
        super().__init__(**kw)


class SentMessage(Base):
    """A message the bot sent about a task (a card, a prompt, a reminder): what a reply
    to it means. Keyed by chat and message id, as Telegram's message ids repeat across chats."""

    __tablename__ = "sent_message"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="uq_sent_message"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[MessageKind] = mapped_column(StrEnumColumn(MessageKind, 20))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    sent_at: Mapped[datetime]


class AuditEntry(Base):
    """Who changed what, when, with the values before and after."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Invite(Base):
    """A single-use, expiring code that registers one person in one role; revocable."""

    __tablename__ = "invite"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[Role] = mapped_column(StrEnumColumn(Role, 12))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"))
    partner_role: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    name: Mapped[str | None] = mapped_column(String(60))  # whom it is for, as the inviter wrote
    revoked_at: Mapped[datetime | None]


class Participation(Base):
    """A partner's answer to a joint task's invitation: joins or cannot."""

    __tablename__ = "participation"
    __table_args__ = (UniqueConstraint("task_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    joins: Mapped[bool]
    at: Mapped[datetime]


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for plain statements on hot paths (no unit of work)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class UpdateInbox(Base):
    """An update the webhook accepted: kept until its handlers are done (then pruned).

    ``update_id`` is the key, so a resend is a no-op; ``claimed_by``/``claimed_at`` are the
    lease of the process handling it (real time), ``done_at`` is set when it is handled.
    """

    __tablename__ = "update_inbox"
    __table_args__ = (Index("ix_update_inbox_open", "done_at", "claimed_at"),)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(60))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=1, server_default="1")
    done_at: Mapped[datetime | None]


class WebLogin(Base):
    """A one-time login link for the web view: single use, short-lived, stored hashed."""

    __tablename__ = "web_login"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A web view session: the cookie carries its token (signed); the row decides."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]  # logged out


class CalendarFeed(Base):
    """A member's personal calendar feed (the secret in its URL, stored hashed); a new one
    revokes the last."""

    __tablename__ = "calendar_feed"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WebKey(Base):
    """The key that signs session cookies when MEDLOFTE_WEB_SECRET is unset: made once,
    shared by every process of the deployment."""

    __tablename__ = "web_key"
    id: Mapped[int] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
