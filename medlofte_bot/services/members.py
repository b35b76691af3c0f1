"""Use cases: invites, onboarding and who a Telegram user is."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from medlofte_bot.domain.errors import NotAllowed, NotFound, UserError
from medlofte_bot.domain.invites import NAME_MAX, InviteSpec, catalogues, check_invite
from medlofte_bot.domain.policy import Viewer, can_invite, can_set_group, has_area, is_coordinator
from medlofte_bot.domain.states import Role
from medlofte_bot.services.context import Sets
from medlofte_bot.storage import models as m
from medlofte_bot.storage.repository import PlanRepository, spend_once

INVITE_DAYS = 7


def area_of(session: Session, member: m.Member) -> frozenset[int] | None:
    """The municipalities a chief or coordinator answers for: every municipality of the
    police area of their own; None (all) for one with no municipality (a settings admin)."""
    if not has_area(member.role) or member.municipality_id is None:
        return None
    own = session.get(m.Municipality, member.municipality_id)
    if own is None:
        return None
    return frozenset(session.scalars(select(m.Municipality.id).where(
        m.Municipality.police_area == own.police_area)))


def viewer(session: Session, member: m.Member) -> Viewer:
    """The access-rule view of a member."""
    return Viewer(member.role, member.team_id, member.municipality_id, member.partner_role,
                  area_of(session, member), member.active)


def group_team(session: Session, chat_id: int) -> int | None:
    """The team whose registered group this chat is, if any."""
    return session.scalar(select(m.Team.id).where(m.Team.group_chat_id == chat_id))


_BY_TELEGRAM_ID = select(m.Member).where(  # built once: it runs on every update
    m.Member.telegram_id == bindparam("telegram_id"), m.Member.active.is_(True))


def by_telegram_id(session: Session, telegram_id: int) -> m.Member | None:
    """The active member with this Telegram id, if any."""
    return session.scalar(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})


def create_invite(session: Session, sets: Sets, role: str, now: datetime, *,
                  team: str | None = None, municipality: str | None = None,
                  partner_role: str | None = None, name: str | None = None,
                  by: m.Member | None = None) -> m.Invite:
    """A single-use code for one person in one role; expires after a week.

    Every reference is checked against the loaded promise sets (``check_invite``); a
    coordinator (``by``) invites only into their own police area (``policy.can_invite``);
    the command line (no ``by``) anywhere.
    """
    if by is not None and not is_coordinator(viewer(session, by)):
        raise NotAllowed("not_coordinator")
    default = None
    if by is not None and by.municipality_id is not None:
        own = session.get(m.Municipality, by.municipality_id)
        default = own.slug if own else None
    spec = check_invite(catalogues(sets.values()), role, team=team, municipality=municipality,
                        partner_role=partner_role, name=name, default_municipality=default)
    return store_invite(session, sets, spec, now, by)


def store_invite(session: Session, sets: Sets, spec: InviteSpec, now: datetime,
                 by: m.Member | None = None) -> m.Invite:
    """Store a checked invite (its municipality and team rows made if not applied yet)."""
    muni, teams = rows_of(session, sets, spec.municipality)
    if by is not None and not can_invite(viewer(session, by), spec.role, muni.id):
        raise NotAllowed("invite_outside_area")
    team_row = teams[spec.team] if spec.team else None
    invite = m.Invite(
        code=secrets.token_urlsafe(12), role=spec.role,
        team_id=team_row.id if team_row else None, municipality_id=muni.id,
        partner_role=spec.partner_role, name=spec.name or None,
        created_by=by.id if by else None, created_at=now,
        expires_at=now + timedelta(days=INVITE_DAYS))
    session.add(invite)
    session.flush()
    PlanRepository(session).audit(now, _actor(by), "invite_created", "invite", invite.id, None,
                                  {"role": spec.role.value, "municipality": spec.municipality,
                                   "team": spec.team, "partner_role": spec.partner_role,
                                   "name": spec.name or None})
    return invite


def rows_of(session: Session, sets: Sets, slug: str
             ) -> tuple[m.Municipality, dict[str, m.Team]]:
    """A municipality's row and team rows, made or brought up to date from its sets."""
    repo = PlanRepository(session)
    mine = sorted((ps for ps in sets.values() if ps.slug == slug), key=lambda ps: ps.year)
    muni = repo.municipality(mine[-1])
    teams: dict[str, m.Team] = {}
    for ps in mine:
        teams.update(repo.teams(muni, ps))
    return muni, teams


def _team_keys(session: Session) -> str:
    return ", ".join(sorted(set(session.scalars(select(m.Team.key))))) or "-"


def redeem(session: Session, code: str, telegram_id: int, display_name: str, language: str,
           now: datetime) -> m.Member:
    """Register the person behind ``telegram_id`` with an invite's role (single use)."""
    invite = session.scalar(select(m.Invite).where(m.Invite.code == code))
    if invite is None:
        raise NotFound("invite_unknown")
    if invite.revoked_at is not None:
        raise UserError("invite_revoked")
    if invite.used_at is not None:
        raise UserError("invite_used")
    if invite.expires_at <= now:
        raise UserError("invite_expired")
    if not spend_once(session, m.Invite, invite.id, now):  # claimed first: one person wins
        raise UserError("invite_used")
    member = session.scalar(select(m.Member).where(m.Member.telegram_id == telegram_id))
    before = None
    if member is None:
        member = m.Member(telegram_id=telegram_id, created_at=now)
        session.add(member)
    else:
        before = {"role": member.role, "team_id": member.team_id, "active": member.active}
    member.display_name = display_name[:NAME_MAX]
    member.role, member.team_id = invite.role, invite.team_id
    member.municipality_id, member.partner_role = invite.municipality_id, invite.partner_role
    member.language, member.active, member.unreachable = language, True, False
    member.deactivated_at = None
    session.flush()
    invite.used_at, invite.used_by = now, member.id
    PlanRepository(session).audit(now, f"member:{member.id}", "member_added", "member",
                                  member.id, before, {"role": member.role,
                                                      "team_id": member.team_id})
    return member


def ensure_coordinator(session: Session, telegram_id: int, display_name: str,
                       now: datetime) -> m.Member:
    """Coordinators named in MEDLOFTE_ADMIN_IDS are members from their first message."""
    member = session.scalar(select(m.Member).where(m.Member.telegram_id == telegram_id))
    if member is None:
        member = m.Member(telegram_id=telegram_id, display_name=display_name[:NAME_MAX],
                          role=Role.COORDINATOR, created_at=now, language="sv")
        session.add(member)
        session.flush()
        PlanRepository(session).audit(now, "system", "member_added", "member", member.id, None,
                                      {"role": "coordinator"})
    else:  # deactivated or given another role once: the settings make them coordinator
        member.role, member.active, member.deactivated_at = Role.COORDINATOR, True, None
    return member


def set_language(member: m.Member, language: str) -> None:
    """Change a member's language."""
    member.language = language


def _actor(member: m.Member | None) -> str:
    return f"member:{member.id}" if member else "cli"


def set_team_group(session: Session, member: m.Member, team_key: str, chat_id: int,
                   now: datetime) -> m.Team:
    """A coordinator makes a group chat the team's: team reminders go there from now on."""
    who = viewer(session, member)
    if not is_coordinator(who):
        raise NotAllowed("not_coordinator")
    found = [team for team in session.scalars(select(m.Team).where(m.Team.key == team_key))
             if can_set_group(who, team.municipality_id)]
    if len(found) != 1:
        raise UserError("group_usage", teams=_team_keys(session))
    team = found[0]
    before = {"group_chat_id": team.group_chat_id}
    team.group_chat_id = chat_id
    PlanRepository(session).audit(now, f"member:{member.id}", "team_group_set", "team", team.id,
                                  before, {"group_chat_id": chat_id})
    return team
