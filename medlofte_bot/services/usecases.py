"""What a person can do in chat, each one short transaction that hands back plain values.

Every method resolves the person behind the update, does its work, commits and closes
before it returns: the caller (a handler) awaits the network only afterwards, and runs
these methods in a worker thread so the event loop never waits on the database. An
expected failure raises UserError with the member's language set on it, after the
transaction was rolled back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from medlofte_bot.domain.errors import NotAllowed, UserError
from medlofte_bot.domain.parsing import done_note, parse_when
from medlofte_bot.domain.policy import (
    ChatFacts,
    Place,
    Shows,
    answer_place,
    can_read_summary,
    is_coordinator,
    is_police,
    task_answer_place,
)
from medlofte_bot.domain.states import MessageKind, Role, TaskStatus
from medlofte_bot.domain.years import in_force, named, new_year_command, outdated
from medlofte_bot.services import members, roster, tasks
from medlofte_bot.services.comments import Commented, set_comment
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.reminders import log_sent_many, member_and_replied, replied_task
from medlofte_bot.services.report import YearReports, area_year_reports
from medlofte_bot.services.roster import InviteLine, MemberLine, RoleChange
from medlofte_bot.services.status import PromiseStatus, promise_status
from medlofte_bot.services.summary import Summary, build_summary
from medlofte_bot.services.tasks import Done, Replanned, TaskView
from medlofte_bot.services.views import (
    Actor,
    Answer,
    ChatRef,
    MemberView,
    SentRecord,
    member_view,
)
from medlofte_bot.storage import models as m


@dataclass(frozen=True)
class YearNote:
    """Which promise sets are in force (for coordinators): this year, the sets named, whether
    they cover this year, and the `new-year` command when they do not."""

    year: str
    sets: str
    covered: bool  # False: every set's year is over
    command: str = ""
    started: bool = True  # False: the sets loaded are for a year still to come


@dataclass(frozen=True)
class StatusView:
    """/status: every promise's standing, and for a coordinator the year note."""

    rows: list[PromiseStatus]
    year: YearNote | None = None

T = TypeVar("T")
MINE_DAYS, MINE_MAX, PLAN_DAYS = 30, 8, 14
DONE_NOW_AFTER = timedelta(hours=12)  # a plain "klar" means a task under way or this recent


class NotMember(UserError):
    """The person is not (or no longer) a member: strangers get one polite sentence."""

    def __init__(self) -> None:
        super().__init__("stranger")


@dataclass(frozen=True)
class Confirmation:
    """A confirmation: recorded now (with or without the follow-up) or already by someone."""

    done: Done
    followed: bool


@dataclass(frozen=True)
class DoneNow:
    """A plain "klar": the one task it confirmed, or the tasks it could mean (maybe none)."""

    confirmation: Confirmation | None
    candidates: tuple[TaskView, ...] = ()


@dataclass(frozen=True)
class Invited:
    """A new invite: the code to put in the link, and what it is for."""

    code: str
    role: Role
    detail: str | None


@dataclass(frozen=True)
class ReplyResult:
    """What a reply to one of the bot's messages did; ``action`` says which."""

    action: str  # help | confirmed | moved | cancelled | follow_up_saved | follow_up_unreadable
    #              | follow_up_skipped | ask_cancel_reason
    task: TaskView | None = None
    confirmation: Confirmation | None = None
    replanned: Replanned | None = None
    reason: str = ""


def _task_of(value: object) -> TaskView | None:
    """The one task an answer is about, if it is about one."""
    if isinstance(value, TaskView):
        return value
    if isinstance(value, Confirmation):
        return value.done.task
    if isinstance(value, Replanned | ReplyResult):
        return value.task
    return None


class UseCases:
    """The chat's use cases over one database, the loaded promise sets and a clock."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._pending: list[SentRecord] = []
        self._pending_lock = threading.Lock()
        self._flush_due = False  # a flush of the queue is waiting (log_sent_later)

    # --- plumbing -------------------------------------------------------------------------

    def _member(self, session: Session, actor: Actor) -> m.Member:
        member = members.by_telegram_id(session, actor.telegram_id)
        if member is None and actor.telegram_id in self.ctx.admin_ids:
            member = members.ensure_coordinator(session, actor.telegram_id, actor.name,
                                                self.ctx.clock.now())
        if member is None:
            raise NotMember()
        return member

    def _run(self, actor: Actor, body: Callable[[Session, m.Member], T],
             write: bool = True, chat: ChatRef | None = None,
             shows: Shows | None = None,
             member_of: Callable[[Session, Actor], m.Member] | None = None,
             quick: Callable[[Connection], Answer[T] | None] | None = None) -> Answer[T]:
        """``body`` for the member behind ``actor`` in one transaction (see Database.run).

        Asked in a group, the answer carries where the policy lets it be shown: ``shows``
        says what it shows; None means it is about one task (the value's task).
        A write transaction also stores the sent-message log waiting to be written, so a
        reply always finds the message it answers. ``member_of`` finds the member instead
        of ``_member`` (a use case that reads more in the same statement). ``quick``, tried
        first in a transaction of its own (``_quick``), answers the common case in plain
        statements, or returns None having written nothing, and the rest runs.
        """
        if quick is not None and (answer := self._quick(quick)) is not None:
            return answer
        find = member_of or self._member

        def work(session: Session) -> Answer[T]:
            pending = self._take_pending() if write else []
            try:
                self._store_sent(session.connection(), pending)
                member = find(session, actor)
                try:
                    value = body(session, member)
                except UserError as exc:
                    exc.lang = member.language
                    raise
                session.flush()
                place = self._place(session, member, chat, shows, value)
            except BaseException:
                self._restore_pending(pending)  # rolled back with the rest: keep them
                raise
            return Answer(member_view(member), value, place)

        return self.ctx.db.run(work, write)

    def _quick(self, quick: Callable[[Connection], Answer[T] | None]) -> Answer[T] | None:
        """``quick`` in one short transaction on a bare connection (no session: half the
        cost), with the sent-message log waiting to be written; None when it does not
        apply (then only the log was written)."""
        return self._plain_with_log(self._take_pending(), quick)

    def _plain_with_log(self, pending: list[SentRecord],
                        then: Callable[[Connection], T]) -> T:
        """``pending`` (taken from the queue) stored, then ``then``, in one transaction on a
        bare connection; if it rolls back, the records go back to the queue."""
        def work(connection: Connection) -> T:
            self._store_sent(connection, pending)
            return then(connection)

        try:
            return self.ctx.db.run_plain(work)
        except BaseException:
            self._restore_pending(pending)  # rolled back: keep them
            raise

    @staticmethod
    def _group(session: Session, chat: ChatRef | None) -> ChatFacts | None:
        """A group chat's facts (whose team's group it is); None for a private chat."""
        if chat is None or chat.private:
            return None
        return ChatFacts(False, members.group_team(session, chat.chat_id))

    def _place(self, session: Session, member: m.Member, chat: ChatRef | None,
               shows: Shows | None, value: object) -> Place:
        group = self._group(session, chat)
        if group is None:
            return Place.HERE
        who = members.viewer(session, member)
        if shows is not None:
            return answer_place(who, group, shows)
        task = _task_of(value)
        return task_answer_place(who, group, task.team_id if task else None)

    def _shown_in(self, session: Session, member: m.Member, chat: ChatRef | None
                  ) -> ChatFacts | None:
        """The group a list of tasks is shown in, if it is shown there (filter by it)."""
        group = self._group(session, chat)
        if group is None or answer_place(members.viewer(session, member), group,
                                         Shows.TEAM_TASKS) != Place.HERE:
            return None
        return group

    # --- who ------------------------------------------------------------------------------

    def whoami(self, actor: Actor) -> MemberView:
        """The member behind the update (NotMember for a stranger)."""
        return self._run(actor, lambda _session, _member: None, write=False).member

    def whoami_answer(self, actor: Actor) -> Answer[MemberView]:
        """The member behind the update, as an answer (for replies that need only them)."""
        member = self.whoami(actor)
        return Answer(member, member)

    def join(self, actor: Actor, code: str) -> MemberView:
        """Register with an invite code (single use)."""
        with self.ctx.db.transaction() as session:
            try:
                member = members.redeem(session, code, actor.telegram_id, actor.name,
                                        actor.language, self.ctx.clock.now())
            except UserError as exc:
                exc.lang = actor.language
                raise
            session.flush()
            view = member_view(member, with_team=True)
            if member.partner_role is None:
                return view
            line = roster.member_line(session, self.ctx.sets, member)
            muni = session.get(m.Municipality, member.municipality_id) \
                if member.municipality_id else None
            partner = ", ".join(x for x in (line.partner_role, muni.name if muni else "") if x)
            return replace(view, partner=partner)

    def set_language(self, actor: Actor, language: str) -> MemberView:
        """Change the member's language."""
        def body(_session: Session, member: m.Member) -> None:
            members.set_language(member, language)
        return self._run(actor, body).member

    def invite(self, actor: Actor, role: str, team: str | None, partner_role: str | None,
               municipality: str | None, chat: ChatRef | None = None) -> Answer[Invited]:
        """A coordinator creates a single-use invite."""
        def body(session: Session, member: m.Member) -> Invited:
            invite = members.create_invite(session, self.ctx.sets, role, self.ctx.clock.now(),
                                           team=team, municipality=municipality,
                                           partner_role=partner_role, by=member)
            return Invited(invite.code, Role(invite.role), roster.invite_detail(
                session, self.ctx.sets, invite))
        return self._run(actor, body, chat=chat, shows=Shows.AREA)

    def set_group(self, actor: Actor, team_key: str | None, chat_id: int | None
                  ) -> Answer[str]:
        """A coordinator makes a group chat a team's; returns the team's name."""
        def body(session: Session, member: m.Member) -> str:
            if team_key is None or chat_id is None:
                teams = ", ".join(t.id for ps in self.ctx.sets.values() for t in ps.teams)
                raise UserError("group_usage", teams=teams or "-")
            return members.set_team_group(session, member, team_key, chat_id,
                                          self.ctx.clock.now()).name
        return self._run(actor, body)

    # --- what I may see -------------------------------------------------------------------

    def my_tasks(self, actor: Actor, chat: ChatRef | None = None) -> Answer[list[TaskView]]:
        """My next pending tasks (the last 12 hours included), at most MINE_MAX."""
        def body(session: Session, member: m.Member) -> list[TaskView]:
            now = self.ctx.clock.now()
            found = tasks.visible_tasks(session, member, now - timedelta(hours=12),
                                        now + timedelta(days=MINE_DAYS), mine_only=True,
                                        chat=self._shown_in(session, member, chat),
                                        disclosure=self.ctx.disclosure)
            return [t for t in found if t.status == TaskStatus.PENDING][:MINE_MAX]
        return self._run(actor, body, write=False, chat=chat, shows=Shows.TEAM_TASKS)

    def plan(self, actor: Actor, chat: ChatRef | None = None) -> Answer[list[TaskView]]:
        """The next PLAN_DAYS days that I may see."""
        def body(session: Session, member: m.Member) -> list[TaskView]:
            now = self.ctx.clock.now()
            return tasks.visible_tasks(session, member, now, now + timedelta(days=PLAN_DAYS),
                                       chat=self._shown_in(session, member, chat),
                                       disclosure=self.ctx.disclosure)
        return self._run(actor, body, write=False, chat=chat, shows=Shows.TEAM_TASKS)

    def status(self, actor: Actor, chat: ChatRef | None = None) -> Answer[StatusView]:
        """Where each promise I follow stands; a coordinator also hears which promise sets
        are in force (or that none covers today, and what to run)."""
        def body(session: Session, member: m.Member) -> StatusView:
            now = self.ctx.clock.now()
            rows = promise_status(session, self.ctx.sets, member, now)
            if not is_coordinator(members.viewer(session, member)):
                return StatusView(rows)
            sets = self.ctx.sets.values()
            current, over = in_force(sets, now), outdated(sets, now)
            return StatusView(rows, YearNote(
                str(now.astimezone(self.ctx.tz).year), named(current or sets),
                not over, new_year_command(sets, now) if over else "", bool(current)))
        return self._run(actor, body, write=False, chat=chat, shows=Shows.AREA)

    def comment(self, actor: Actor, promise: str, text: str,
                chat: ChatRef | None = None) -> Answer[Commented]:
        """/kommentar: the coordinator's comment on a promise for the year report."""
        return self._run(actor, lambda s, mem: set_comment(
            s, self.ctx.sets, mem, promise, text, self.ctx.clock.now()), chat=chat,
            shows=Shows.AREA)

    def year_reports(self, actor: Actor, year: int | None = None,
                     chat: ChatRef | None = None) -> Answer[YearReports]:
        """/arsrapport: the year report of the member's area, in the version the policy
        gives (chiefs and coordinators: internal)."""
        def body(session: Session, member: m.Member) -> YearReports:
            return area_year_reports(session, self.ctx.sets, members.viewer(session, member),
                                     year, self.ctx.clock.now(), self.ctx.disclosure)
        return self._run(actor, body, write=False, chat=chat, shows=Shows.AREA)

    def summary(self, actor: Actor, chat: ChatRef | None = None) -> Answer[Summary]:
        """The Monday summary on demand (chief and coordinators)."""
        def body(session: Session, member: m.Member) -> Summary:
            if not can_read_summary(members.viewer(session, member)):
                raise NotAllowed("not_chief")
            return build_summary(session, self.ctx.sets, member, self.ctx.clock.now(),
                                 self.ctx.disclosure)
        return self._run(actor, body, write=False, chat=chat, shows=Shows.AREA)

    # --- acting on a task -----------------------------------------------------------------

    def confirm(self, actor: Actor, task_id: int, note: str = "",
                chat: ChatRef | None = None, early_ok: bool = False) -> Answer[Confirmation]:
        """Mark a task done; a note is read as the follow-up's answer when it fits. Long before
        the task's start nothing is stored unless ``early_ok`` (see tasks.mark_done)."""
        return self._run(actor, lambda s, mem: self._confirm(s, mem, task_id, note, early_ok),
                         chat=chat)

    def _confirm(self, session: Session, member: m.Member, task_id: int,
                 note: str, early_ok: bool = False) -> Confirmation:
        now = self.ctx.clock.now()
        done = tasks.mark_done(session, member, task_id, now, note, early_ok,
                               self.ctx.disclosure)
        followed = (not done.already and not done.early and bool(note)
                    and tasks.apply_follow_up(session, member, done.task, note, now))
        return Confirmation(done, followed)

    def done_now(self, actor: Actor, note: str) -> Answer[DoneNow]:
        """A plain "klar" (not a reply): my one task that is under way or ended in the last
        DONE_NOW_AFTER is confirmed; when several could be meant, they are handed back to
        choose from; when none, nothing is stored."""
        def body(session: Session, member: m.Member) -> DoneNow:
            now = self.ctx.clock.now()
            if not is_police(members.viewer(session, member)):
                raise NotAllowed("not_police")
            found = tasks.visible_tasks(session, member, now - timedelta(days=2),
                                        now + timedelta(seconds=1), mine_only=True,
                                        disclosure=self.ctx.disclosure)
            open_now = [t for t in found if t.status == TaskStatus.PENDING
                        and t.start <= now and t.end >= now - DONE_NOW_AFTER]
            if len(open_now) == 1:
                return DoneNow(self._confirm(session, member, open_now[0].id, note))
            return DoneNow(None, tuple(open_now[:MINE_MAX]))
        return self._run(actor, body)

    def task_for(self, actor: Actor, task_id: int, police: bool = True,
                 chat: ChatRef | None = None) -> Answer[TaskView]:
        """A task I may see (and, with ``police``, act on): for a move or cancel prompt."""
        def body(session: Session, member: m.Member) -> TaskView:
            row = tasks.acting(session, member, task_id) if police \
                else tasks.get_visible(session, member, task_id)
            return tasks.view(session, row, self.ctx.disclosure)
        return self._run(actor, body, write=False, chat=chat)

    def move(self, actor: Actor, task_id: int, when_text: str | None = None,
             start: datetime | None = None, chat: ChatRef | None = None) -> Answer[Replanned]:
        """Move a task to a typed time or a chosen instant; re-plan the year."""
        return self._run(actor, lambda s, mem: self._move(s, mem, task_id, when_text, start),
                         chat=chat)

    def _move(self, session: Session, member: m.Member, task_id: int, when_text: str | None,
              start: datetime | None) -> Replanned:
        now = self.ctx.clock.now()
        if start is None:
            row = tasks.acting(session, member, task_id)
            start = parse_when(when_text or "", now, tasks.task_tz(row))
            if start is None:
                raise UserError("move_unreadable", text=when_text or "")
        return tasks.move(session, self.ctx.sets, member, task_id, start, now,
                          self.ctx.disclosure)

    def cancel(self, actor: Actor, task_id: int, reason: str,
               chat: ChatRef | None = None) -> Answer[Replanned]:
        """Cancel a task with a reason; re-plan the year."""
        return self._run(actor, lambda s, mem: tasks.cancel(
            s, self.ctx.sets, mem, task_id, reason, self.ctx.clock.now(),
            self.ctx.disclosure), chat=chat)

    def answer_invitation(self, actor: Actor, task_id: int, joins: bool,
                          chat: ChatRef | None = None) -> Answer[TaskView]:
        """A partner joins or declines a joint task."""
        return self._run(actor, lambda s, mem: tasks.answer_invitation(
            s, mem, task_id, joins, self.ctx.clock.now()), chat=chat)

    def ask_partners_again(self, actor: Actor, task_id: int, chat: ChatRef | None = None
                           ) -> Answer[tuple[TaskView, int]]:
        """The coordinator's "ask again": the invitation once more to the partner role."""
        return self._run(actor, lambda s, mem: tasks.ask_partners_again(
            s, mem, task_id, self.ctx.clock.now()), chat=chat, shows=Shows.AREA)

    def police_only(self, actor: Actor, task_id: int, chat: ChatRef | None = None
                    ) -> Answer[TaskView]:
        """The coordinator's "police only": a joint task with no partner is run by the
        police alone (counted to the promise, not to its joint part)."""
        return self._run(actor, lambda s, mem: tasks.police_only(
            s, mem, task_id, self.ctx.clock.now()), chat=chat)

    def reply(self, actor: Actor, chat: ChatRef, message_id: int, text: str
              ) -> Answer[ReplyResult]:
        """A reply to one of the bot's messages: a done-word, a time, a reason, a follow-up."""
        replied: list[tuple[int, MessageKind] | None] = []

        def member_of(session: Session, who: Actor) -> m.Member:
            # every reply reads both: one statement (one round trip on PostgreSQL)
            both = member_and_replied(session, who.telegram_id, chat.chat_id, message_id)
            if both is None:  # a stranger, or a settings admin not yet a member
                return self._member(session, who)
            replied[:] = [both[1]]
            return both[0]

        def quick(connection: Connection) -> Answer[ReplyResult] | None:
            # the bot's most frequent write: a plain "klar" in a private chat
            found = tasks.quick_confirm(connection, actor.telegram_id, chat.chat_id, message_id,
                                        self.ctx.clock.now(), self.ctx.disclosure)
            if found is None:
                return None
            member, done = found
            return Answer(member, ReplyResult("confirmed", done.task, Confirmation(done, False)))

        return self._run(actor, lambda s, mem: self._reply(
            s, mem, text, replied[0] if replied else replied_task(s, chat.chat_id, message_id)),
            chat=chat, member_of=member_of,
            quick=quick if chat.private and done_note(text) == "" else None)

    def _reply(self, session: Session, member: m.Member, text: str,
               found: tuple[int, MessageKind] | None) -> ReplyResult:
        """What a reply does, given the bot's message it answers (``found``: its task and
        kind, None when it is about no task)."""
        if found is None:
            return ReplyResult("help")
        task_id, kind = found
        note = done_note(text)
        if kind == MessageKind.PROMPT_CANCEL:
            reason = text.strip()
            if not reason:
                return ReplyResult("ask_cancel_reason")
            replanned = tasks.cancel(session, self.ctx.sets, member, task_id, reason,
                                     self.ctx.clock.now(), self.ctx.disclosure)
            return ReplyResult("cancelled", replanned.task, replanned=replanned, reason=reason)
        if kind == MessageKind.PROMPT_MOVE:
            replanned = self._move(session, member, task_id, text, None)
            return ReplyResult("moved", replanned.task, replanned=replanned)
        if kind == MessageKind.PROMPT_FOLLOW_UP:
            task = tasks.view(session, tasks.acting(session, member, task_id),
                              self.ctx.disclosure)
            if note == "":
                return ReplyResult("follow_up_skipped", task)
            # the answer itself ("Genomfört enligt plan…"), even when it starts with a done-word
            saved = tasks.apply_follow_up(session, member, task, text, self.ctx.clock.now())
            return ReplyResult("follow_up_saved" if saved else "follow_up_unreadable", task)
        if note is None:
            return ReplyResult("help")
        confirmation = self._confirm(session, member, task_id, note)
        return ReplyResult("confirmed", confirmation.done.task, confirmation)

    def skip_follow_up(self, actor: Actor, task_id: int,
                       chat: ChatRef | None = None) -> Answer[TaskView]:
        """'Hoppa över': nothing is stored; the task must still be one I may see."""
        return self.task_for(actor, task_id, police=False, chat=chat)

    # --- the log of what was sent -----------------------------------------------------------

    def log_sent_later(self, records: Sequence[SentRecord]) -> bool:
        """Queue messages about tasks for the log; they are stored with the next write
        transaction or by ``flush_sent`` (commits grouped). True if no flush is due yet,
        i.e. the caller should make sure one follows soon (and call ``flush_due`` then):
        one flush waits at a time, however many messages are queued meanwhile."""
        if not records:
            return False
        with self._pending_lock:
            self._pending.extend(records)
            first, self._flush_due = not self._flush_due, True
        return first

    def flush_due(self) -> bool:
        """The waiting flush is here: True if anything is still queued (a write transaction
        may have stored it all meanwhile; then there is nothing to do, and no thread to
        wake). The next ``log_sent_later`` asks for a flush again."""
        with self._pending_lock:
            self._flush_due = False
            return bool(self._pending)

    def flush_sent(self) -> int:
        """Store the queued log in one transaction; returns how many rows."""
        pending = self._take_pending()
        if pending:
            self._plain_with_log(pending, lambda _connection: None)
        return len(pending)

    def _take_pending(self) -> list[SentRecord]:
        with self._pending_lock:
            pending, self._pending = self._pending, []
        return pending

    def _restore_pending(self, records: list[SentRecord]) -> None:
        if records:
            with self._pending_lock:
                self._pending[:0] = records

    def _store_sent(self, connection: Connection, records: Sequence[SentRecord]) -> None:
        if records:
            log_sent_many(connection, [(r.chat_id, r.message_id, r.kind, r.task_id, r.member_id)
                                    for r in records], self.ctx.clock.now())

    # --- members and invites (coordinators) -----------------------------------------------

    def members(self, actor: Actor) -> Answer[list[MemberLine]]:
        """The active members of the coordinator's police area."""
        return self._run(actor, lambda s, mem: roster.list_members(s, self.ctx.sets, mem),
                         write=False)

    def member_to_deactivate(self, actor: Actor, member_id: int) -> Answer[MemberLine]:
        """The member a coordinator asks to deactivate, for the confirmation step."""
        return self._run(actor, lambda s, mem: roster.for_deactivation(
            s, self.ctx.sets, mem, member_id, self.ctx.admin_ids), write=False)

    def deactivate(self, actor: Actor, member_id: int) -> Answer[MemberLine]:
        """Deactivate a member of the coordinator's area, with immediate effect."""
        return self._run(actor, lambda s, mem: roster.deactivate(
            s, self.ctx.sets, mem, member_id, self.ctx.clock.now(), self.ctx.admin_ids))

    def change_role(self, actor: Actor, member_id: int, role: str, team: str | None,
                    partner_role: str | None, municipality: str | None) -> Answer[RoleChange]:
        """Give a member of the coordinator's area another role, team or partner role."""
        return self._run(actor, lambda s, mem: roster.change_role(
            s, self.ctx.sets, mem, member_id, role, team=team, partner_role=partner_role,
            municipality=municipality, now=self.ctx.clock.now(), admin_ids=self.ctx.admin_ids))

    def open_invites(self, actor: Actor) -> Answer[list[InviteLine]]:
        """The area's invites not used, revoked or expired."""
        return self._run(actor, lambda s, mem: roster.open_invites(
            s, self.ctx.sets, mem, self.ctx.clock.now()), write=False)

    def revoke_invite(self, actor: Actor, ref: str) -> Answer[InviteLine]:
        """Revoke an open invite by its number or the start of its code."""
        return self._run(actor, lambda s, mem: roster.revoke_invite(
            s, self.ctx.sets, mem, ref, self.ctx.clock.now()))
