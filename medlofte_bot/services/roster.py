"""A coordinator's roster: the members of their police area, deactivating one, changing a
role or team, and the invites not used yet (listing, revoking).

Access is the policy's: ``can_manage`` for members, ``can_invite`` for invites and new
roles. A member or invite outside the coordinator's area reads exactly like one that does
not exist. Every change is audited with the values before and after.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from medlofte_bot.domain.errors import NotAllowed, NotFound, UserError
from medlofte_bot.domain.invites import Catalogue, catalogues, check_invite
from medlofte_bot.domain.policy import Viewer, can_invite, can_manage, is_coordinator
from medlofte_bot.domain.states import ReminderState, Role
from medlofte_bot.services.context import Sets
from medlofte_bot.services.members import rows_of, viewer
from medlofte_bot.storage import models as m
from medlofte_bot.storage.repository import PlanRepository

ROLE_ORDER = (Role.COORDINATOR, Role.CHIEF, Role.OFFICER, Role.PARTNER)
CODE_PREFIX_MIN = 6
DEFAULT_TZ = "Europe/Stockholm"


@dataclass(frozen=True)
class MemberLine:
    """A member as the roster shows them: names and titles, never internal keys."""

    id: int
    name: str
    role: Role
    municipality: str | None  # the municipality's name; None: a coordinator from the settings
    team: str | None  # the team's name
    partner_role: str | None  # the partner role's title, as the promise set words it
    unreachable: bool = False
    is_asker: bool = False


@dataclass(frozen=True)
class RoleChange:
    """A member before and after a change of role, team or partner role."""

    before: MemberLine
    after: MemberLine


@dataclass(frozen=True)
class InviteLine:
    """An invite not used yet, as the roster shows it."""

    id: int
    code_start: str
    role: Role
    municipality: str | None
    team: str | None
    partner_role: str | None
    name: str
    created_at: datetime  # in the municipality's time zone
    expires_at: datetime
    by: str | None  # who made it; None: the command line


class _Names:
    """Municipality, team and partner-role names for rows (one query per table)."""

    def __init__(self, session: Session, sets: Sets) -> None:
        self.munis = {r.id: r for r in session.scalars(select(m.Municipality))}
        self.teams = {r.id: r.name for r in session.scalars(select(m.Team))}
        self.catalogues: dict[str, Catalogue] = catalogues(sets.values())

    def municipality(self, muni_id: int | None) -> str | None:
        row = self.munis.get(muni_id) if muni_id is not None else None
        return row.name if row else None

    def partner_role(self, muni_id: int | None, role_id: str | None) -> str | None:
        row = self.munis.get(muni_id) if muni_id is not None else None
        found = self.catalogues.get(row.slug) if row else None
        return found.partner_roles.get(role_id, role_id) if found and role_id else role_id

    def member(self, row: m.Member, asker_id: int | None = None) -> MemberLine:
        return MemberLine(row.id, row.display_name, Role(row.role),
                          self.municipality(row.municipality_id),
                          self.teams.get(row.team_id) if row.team_id else None,
                          self.partner_role(row.municipality_id, row.partner_role),
                          row.unreachable, row.id == asker_id)

    def invite(self, row: m.Invite, by: str | None) -> InviteLine:
        muni = self.munis.get(row.municipality_id) if row.municipality_id else None
        tz = ZoneInfo(muni.timezone if muni else DEFAULT_TZ)
        return InviteLine(row.id, row.code[:CODE_PREFIX_MIN], Role(row.role),
                          self.municipality(row.municipality_id),
                          self.teams.get(row.team_id) if row.team_id else None,
                          self.partner_role(row.municipality_id, row.partner_role),
                          row.name or "", row.created_at.astimezone(tz),
                          row.expires_at.astimezone(tz), by)


def _coordinator(session: Session, by: m.Member) -> Viewer:
    who = viewer(session, by)
    if not is_coordinator(who):
        raise NotAllowed("not_coordinator")
    return who


def _as_target(row: m.Member) -> Viewer:
    return Viewer(row.role, row.team_id, row.municipality_id, row.partner_role, None, row.active)


def _sort_key(line: MemberLine) -> tuple[Any, ...]:
    return (line.municipality or "", ROLE_ORDER.index(line.role),
            line.team or line.partner_role or "", line.name.lower(), line.id)


def list_members(session: Session, sets: Sets, by: m.Member) -> list[MemberLine]:
    """The active members the coordinator manages, by municipality, role, team and name."""
    who = _coordinator(session, by)
    query = select(m.Member).where(m.Member.active.is_(True))
    if who.area is not None:
        query = query.where(m.Member.municipality_id.in_(who.area))
    names = _Names(session, sets)
    return sorted((names.member(r, by.id) for r in session.scalars(query)
                   if can_manage(who, _as_target(r))), key=_sort_key)


def _managed(session: Session, by: m.Member, member_id: int,
             admin_ids: Collection[int]) -> tuple[Viewer, m.Member]:
    """An active member the coordinator may manage, and not themselves or a settings admin."""
    who = _coordinator(session, by)
    row = session.get(m.Member, member_id)
    if row is None or not row.active or not can_manage(who, _as_target(row)):
        raise NotFound("member_unknown", id=member_id)
    if row.id == by.id:
        raise UserError("member_self")
    if row.telegram_id in admin_ids:
        raise UserError("member_is_admin", name=row.display_name)
    return who, row


def for_deactivation(session: Session, sets: Sets, by: m.Member, member_id: int,
                     admin_ids: Collection[int]) -> MemberLine:
    """The member a coordinator is about to deactivate (the confirmation's question)."""
    _, row = _managed(session, by, member_id, admin_ids)
    return _Names(session, sets).member(row)


def _state(session: Session, row: m.Member) -> dict[str, Any]:
    muni = session.get(m.Municipality, row.municipality_id) if row.municipality_id else None
    team = session.get(m.Team, row.team_id) if row.team_id else None
    return {"role": str(row.role), "municipality": muni.slug if muni else None,
            "team": team.key if team else None, "partner_role": row.partner_role,
            "active": row.active}


def _withdraw_reminders(session: Session, member_id: int) -> None:
    """Unsent reminders to or about the member: made again by the next tick for what the
    member (if still active) should still get, in their new role."""
    session.execute(delete(m.Reminder).where(
        m.Reminder.state == ReminderState.PENDING,
        or_(m.Reminder.member_id == member_id,
            m.Reminder.subject == m.member_subject(member_id))))


def deactivate(session: Session, sets: Sets, by: m.Member, member_id: int, now: datetime,
               admin_ids: Collection[int]) -> MemberLine:
    """Deactivate a member now: no reads, actions or reminders from this moment."""
    _, row = _managed(session, by, member_id, admin_ids)
    line = _Names(session, sets).member(row)
    before = _state(session, row)
    row.active, row.deactivated_at = False, now
    _withdraw_reminders(session, row.id)
    PlanRepository(session).audit(now, f"member:{by.id}", "member_deactivated", "member",
                                  row.id, before, {**before, "active": False})
    return line


def change_role(session: Session, sets: Sets, by: m.Member, member_id: int, role: str, *,
                team: str | None, partner_role: str | None, municipality: str | None,
                now: datetime, admin_ids: Collection[int]) -> RoleChange:
    """Give a member another role, team or partner role, checked like an invite."""
    who, row = _managed(session, by, member_id, admin_ids)
    current = session.get(m.Municipality, row.municipality_id) if row.municipality_id else None
    spec = check_invite(catalogues(sets.values()), role, team=team, municipality=municipality,
                        partner_role=partner_role,
                        default_municipality=current.slug if current else None)
    muni, teams = rows_of(session, sets, spec.municipality)
    if not can_invite(who, spec.role, muni.id):
        raise NotAllowed("invite_outside_area")
    names = _Names(session, sets)
    before_line, before = names.member(row), _state(session, row)
    row.role, row.municipality_id = spec.role, muni.id
    row.team_id = teams[spec.team].id if spec.team else None
    row.partner_role = spec.partner_role
    after = _state(session, row)
    if after == before:
        raise UserError("role_unchanged", name=row.display_name)
    _withdraw_reminders(session, row.id)
    PlanRepository(session).audit(now, f"member:{by.id}", "member_role_changed", "member",
                                  row.id, before, after)
    session.flush()
    return RoleChange(before_line, _Names(session, sets).member(row))


def _open(session: Session, who: Viewer, now: datetime) -> list[m.Invite]:
    rows = session.scalars(select(m.Invite).where(
        m.Invite.used_at.is_(None), m.Invite.revoked_at.is_(None), m.Invite.expires_at > now)
        .order_by(m.Invite.created_at, m.Invite.id))
    return [r for r in rows if can_invite(who, r.role, r.municipality_id)]


def open_invites(session: Session, sets: Sets, by: m.Member, now: datetime
                 ) -> list[InviteLine]:
    """The area's invites not used, revoked or expired, oldest first."""
    rows = _open(session, _coordinator(session, by), now)
    names = _Names(session, sets)
    makers = {r.id: r.display_name for r in session.scalars(select(m.Member).where(
        m.Member.id.in_({r.created_by for r in rows if r.created_by is not None})))}
    return [names.invite(r, makers.get(r.created_by) if r.created_by else None) for r in rows]


def revoke_invite(session: Session, sets: Sets, by: m.Member, ref: str, now: datetime
                  ) -> InviteLine:
    """Revoke an open invite of the area, named by its number or the start of its code."""
    rows = _open(session, _coordinator(session, by), now)
    ref = ref.strip().lstrip("#")
    if ref.isascii() and ref.isdigit():
        found = [r for r in rows if str(r.id) == ref]
    elif len(ref) >= CODE_PREFIX_MIN:
        found = [r for r in rows if r.code.startswith(ref)]
    else:
        found = []
    if not found:
        raise NotFound("invite_not_open", ref=ref)
    if len(found) > 1:
        raise UserError("invite_ref_ambiguous", ref=ref)
    row = found[0]
    row.revoked_at = now
    PlanRepository(session).audit(now, f"member:{by.id}", "invite_revoked", "invite", row.id,
                                  {"revoked_at": None},
                                  {"revoked_at": now.isoformat(), "role": str(row.role),
                                   "name": row.name})
    maker = session.get(m.Member, row.created_by) if row.created_by else None
    return _Names(session, sets).invite(row, maker.display_name if maker else None)


def invite_detail(session: Session, sets: Sets, row: m.Invite) -> str | None:
    """What an invite is for besides its role, in words: the team's name or the partner
    role's title (and whom, if named)."""
    line = _Names(session, sets).invite(row, None)
    detail = line.team or line.partner_role
    return ", ".join(p for p in (detail, line.name) if p) or None
