"""Records by rule: free-text notes cleared some months after their year, a deactivated
member's name replaced by their role word after a set time. Counts and completions stay;
each clearing is audited, and the audit keeps no cleared text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot import texts
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.services.context import Sets
from medlofte_bot.storage import models as m
from medlofte_bot.storage.repository import PlanRepository

KEPT_CODES = {"vehicle": frozenset({"marked", "unmarked"})}  # words the bot chose, not people
SYSTEM_REASONS = frozenset({"", "config"})  # cancellation reasons the bot wrote itself
NOTES_CLEARED = "notes_cleared"


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months later (or earlier), the day kept where it exists."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def notes_clear_from(year: int, tz: ZoneInfo, months: int) -> datetime:
    """When a year's notes are due to be cleared: ``months`` after New Year's night."""
    return add_months(datetime(year + 1, 1, 1, tzinfo=tz), months)


@dataclass(frozen=True)
class Cleared:
    """What one pass cleared."""

    sets: tuple[str, ...] = ()  # "arvidsjaur-2015"
    notes: int = 0  # completions whose note or free-text fields were cleared
    reasons: int = 0  # cancellations whose reason was cleared
    audits: int = 0  # audit entries whose copy of a note or reason was cleared
    names: int = 0  # deactivated members whose name is now their role word


def _months(row: m.PromiseSetRow, slug: str, sets: Sets) -> int | None:
    """The set's retention: from the file when it is loaded (a rule changed after the year
    ended, when the file can no longer be applied), else as stored when last applied."""
    loaded = sets.get((slug, row.year))
    return loaded.notes_kept_months if loaded is not None else row.notes_kept_months


def _fields(values: dict[str, Any] | None) -> dict[str, Any]:
    """Counts and the bot's own codes; free text dropped."""
    kept: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if isinstance(value, (int, float, bool)) or value is None or \
                value in KEPT_CODES.get(key, ()):
            kept[key] = value
    return kept


def _scrub(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    if not payload:
        return payload
    out = dict(payload)
    if out.get("note"):
        out["note"] = ""
    if out.get("reason") not in SYSTEM_REASONS and "reason" in out:
        out["reason"] = ""
    if "fields" in out:
        out["fields"] = _fields(out["fields"])
    return out


def clear_notes(session: Session, sets: Sets, now: datetime) -> Cleared:
    """Clear the free text of every stored year whose retention has run out."""
    found, notes, reasons, audits = [], 0, 0, 0
    for row in session.scalars(select(m.PromiseSetRow).order_by(m.PromiseSetRow.id)):
        muni = session.get(m.Municipality, row.municipality_id)
        months = _months(row, muni.slug, sets) if muni else None
        if muni is None or months is None or \
                now < notes_clear_from(row.year, ZoneInfo(muni.timezone), months):
            continue
        ids = list(session.scalars(select(m.Task.id).join(m.Promise).where(
            m.Promise.municipality_id == muni.id, m.Promise.year == row.year)))
        if not ids:
            continue
        n_notes = n_reasons = n_audits = 0
        for c in session.scalars(select(m.Completion).where(m.Completion.task_id.in_(ids))):
            kept = _fields(c.fields)
            if c.note or kept != (c.fields or {}):
                c.note, c.fields = "", kept
                n_notes += 1
        for task in session.scalars(select(m.Task).where(
                m.Task.id.in_(ids), m.Task.status == TaskStatus.CANCELLED,
                m.Task.reason.not_in(SYSTEM_REASONS))):
            task.reason = ""
            n_reasons += 1
        for entry in session.scalars(select(m.AuditEntry).where(
                m.AuditEntry.entity == "task", m.AuditEntry.entity_id.in_([str(i) for i in ids]),
                m.AuditEntry.action.in_(("done", "follow_up", "cancelled")))):
            before, after = _scrub(entry.before), _scrub(entry.after)
            if before != entry.before or after != entry.after:
                entry.before, entry.after = before, after
                n_audits += 1
        if n_notes or n_reasons or n_audits:
            key = f"{muni.slug}-{row.year}"
            PlanRepository(session).audit(now, "system", NOTES_CLEARED, "promise_set", key,
                                          None, {"notes": n_notes, "reasons": n_reasons,
                                                 "audit_entries": n_audits,
                                                 "kept_months": months})
            found.append(key)
            notes, reasons, audits = notes + n_notes, reasons + n_reasons, audits + n_audits
    return Cleared(tuple(found), notes, reasons, audits)


def clear_names(session: Session, now: datetime, months: int | None) -> int:
    """Replace the name of members deactivated ``months`` ago or more by their role word
    (in Swedish, the stored language of the records); their invites' names too."""
    if months is None:
        return 0
    cutoff = add_months(now, -months)
    rows = list(session.scalars(select(m.Member).where(
        m.Member.active.is_(False), m.Member.deactivated_at.is_not(None),
        m.Member.deactivated_at <= cutoff, m.Member.name_cleared_at.is_(None))))
    repo = PlanRepository(session)
    for member in rows:
        word = texts.t(f"role.{member.role}", texts.DEFAULT_LANGUAGE)
        member.display_name, member.name_cleared_at = word, now
        invites = list(session.scalars(select(m.Invite).where(m.Invite.used_by == member.id)))
        for invite in invites:
            invite.name = None
        for entry in session.scalars(select(m.AuditEntry).where(
                m.AuditEntry.entity == "invite", m.AuditEntry.action == "invite_created",
                m.AuditEntry.entity_id.in_([str(i.id) for i in invites]))):
            if entry.after and entry.after.get("name"):
                entry.after = {**entry.after, "name": None}
        repo.audit(now, "system", "name_cleared", "member", member.id, None,
                   {"display_name": word, "deactivated_at": member.deactivated_at.isoformat()
                    if member.deactivated_at else None, "kept_months": months})
    return len(rows)


def clear_due(session: Session, sets: Sets, now: datetime,
              names_kept_months: int | None) -> Cleared:
    """Everything due for clearing at ``now``: notes by each set's rule, then names."""
    cleared = clear_notes(session, sets, now)
    return Cleared(cleared.sets, cleared.notes, cleared.reasons, cleared.audits,
                   clear_names(session, now, names_kept_months))


def notes_cleared_at(session: Session, slug: str, year: int) -> datetime | None:
    """When the year's notes were last cleared (for the year report), if ever."""
    return session.scalar(select(m.AuditEntry.at).where(
        m.AuditEntry.action == NOTES_CLEARED, m.AuditEntry.entity == "promise_set",
        m.AuditEntry.entity_id == f"{slug}-{year}").order_by(m.AuditEntry.at.desc()).limit(1))


@dataclass(frozen=True)
class PersonRecord:
    """Everything stored about one person, as plain values (for a request to see one's data)."""

    member: dict[str, Any]
    invites: tuple[dict[str, Any], ...]
    completions: tuple[dict[str, Any], ...]
    participations: tuple[dict[str, Any], ...]
    reminders: tuple[dict[str, Any], ...]
    messages: int  # bot messages about tasks logged as sent to them
    audit: tuple[dict[str, Any], ...]


def _task_name(session: Session, task_id: int | None) -> str:
    task = session.get(m.Task, task_id) if task_id is not None else None
    if task is None:
        return "-"
    label = f" ({task.label})" if task.label else ""
    start = task.start_at.astimezone(ZoneInfo(task.promise.municipality.timezone))
    return f"#{task.id} {task.promise.title}{label}, {start:%Y-%m-%d %H:%M}"


def person_record(session: Session, telegram_id: int) -> PersonRecord | None:
    """The member with this Telegram id and every row about them; None if there is none."""
    member = session.scalar(select(m.Member).where(m.Member.telegram_id == telegram_id))
    if member is None:
        return None
    muni = session.get(m.Municipality, member.municipality_id) \
        if member.municipality_id else None
    row = {"id": member.id, "telegram_id": member.telegram_id,
           "display_name": member.display_name, "role": str(member.role),
           "municipality": muni.name if muni else None,
           "team": member.team.name if member.team else None,
           "partner_role": member.partner_role, "language": member.language,
           "active": member.active, "unreachable": member.unreachable,
           "created_at": member.created_at, "deactivated_at": member.deactivated_at,
           "name_cleared_at": member.name_cleared_at}
    invites = tuple({"id": i.id, "code": i.code[:6], "role": str(i.role), "name": i.name,
                     "created_at": i.created_at, "used_at": i.used_at,
                     "revoked_at": i.revoked_at,
                     "how": "redeemed" if i.used_by == member.id else "created"}
                    for i in session.scalars(select(m.Invite).where(
                        (m.Invite.used_by == member.id) | (m.Invite.created_by == member.id))
                        .order_by(m.Invite.id)))
    completions = tuple({"task": _task_name(session, c.task_id), "done_at": c.done_at,
                         "note": c.note, "counters": dict(c.counters or {}),
                         "fields": dict(c.fields or {})}
                        for c in session.scalars(select(m.Completion).where(
                            m.Completion.member_id == member.id).order_by(m.Completion.id)))
    participations = tuple({"task": _task_name(session, p.task_id), "joins": p.joins,
                            "at": p.at}
                           for p in session.scalars(select(m.Participation).where(
                               m.Participation.member_id == member.id)
                               .order_by(m.Participation.at)))
    reminders = tuple({"kind": r.kind, "subject": r.subject, "state": str(r.state),
                       "due_at": r.due_at, "sent_at": r.sent_at}
                      for r in session.scalars(select(m.Reminder).where(
                          m.Reminder.member_id == member.id).order_by(m.Reminder.due_at)))
    messages = len(list(session.scalars(select(m.SentMessage.id).where(
        m.SentMessage.member_id == member.id))))
    actor = f"member:{member.id}"
    audit = tuple({"at": a.at, "actor": a.actor, "action": a.action,
                   "entity": f"{a.entity} {a.entity_id}", "before": a.before, "after": a.after}
                  for a in session.scalars(select(m.AuditEntry).where(
                      (m.AuditEntry.actor == actor) | ((m.AuditEntry.entity == "member")
                                                       & (m.AuditEntry.entity_id
                                                          == str(member.id))))
                      .order_by(m.AuditEntry.at, m.AuditEntry.id)))
    return PersonRecord(row, invites, completions, participations, reminders, messages, audit)
