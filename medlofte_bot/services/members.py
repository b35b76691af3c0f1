"""Use cases: invites, onboarding and who a Telegram user is."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.domain.errors import NotAllowed, NotFound, UserError
from medlofte_bot.domain.policy import (
    ROLES,
    Viewer,
    can_set_group,
    has_area,
    is_coordinator,
)
from medlofte_bot.domain.states import Role
from medlofte_bot.storage import models as m
from medlofte_bot.storage.repository import PlanRepository

INVITE_DAYS = 7
NAME_MAX = 60


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


def by_telegram_id(session: Session, telegram_id: int) -> m.Member | None:
    """The active member with this Telegram id, if any."""
    return session.scalar(select(m.Member).where(
        m.Member.telegram_id == telegram_id, m.Member.active.is_(True)))


def create_invite(session: Session, role: str, now: datetime, *, team: str | None = None,
                  municipality: str | None = None, partner_role: str | None = None,
                  by: m.Member | None = None) -> m.Invite:
    """A single-use code for one person in one role; expires after a week."""
    if by is not None and not is_coordinator(viewer(session, by)):
        raise NotAllowed("not_coordinator")
    if role not in ROLES:
        raise UserError("invite_bad_role", role=role, roles=", ".join(ROLES))
    muni = _municipality(session, municipality, by)
    team_row = None
    if team:
        query = select(m.Team).where(m.Team.key == team)
        if muni is not None:
            query = query.where(m.Team.municipality_id == muni.id)
        found = list(session.scalars(query))
        if not found:
            raise UserError("invite_bad_team", team=team, teams=_team_keys(session))
        if len(found) > 1:
            slugs = ", ".join(sorted(session.scalars(select(m.Municipality.slug))))
            raise UserError("invite_team_ambiguous", team=team, municipalities=slugs)
        team_row = found[0]
        muni = muni or session.get(m.Municipality, team_row.municipality_id)
    elif role == Role.OFFICER:
        raise UserError("invite_needs_team", teams=_team_keys(session))
    if muni is None:
        muni = session.scalar(select(m.Municipality).order_by(m.Municipality.id))
    invite = m.Invite(
        code=secrets.token_urlsafe(12), role=role, team_id=team_row.id if team_row else None,
        municipality_id=muni.id if muni else None, partner_role=partner_role,
        created_by=by.id if by else None, created_at=now,
        expires_at=now + timedelta(days=INVITE_DAYS))
    session.add(invite)
    session.flush()
    PlanRepository(session).audit(now, _actor(by), "invite_created", "invite", invite.id, None,
                                  {"role": role, "team": team, "partner_role": partner_role})
    return invite


def _team_keys(session: Session) -> str:
    return ", ".join(sorted(set(session.scalars(select(m.Team.key))))) or "-"


def _municipality(session: Session, slug: str | None,
                  by: m.Member | None) -> m.Municipality | None:
    """The named municipality, else the inviting coordinator's own, else None."""
    if slug:
        muni = session.scalar(select(m.Municipality).where(m.Municipality.slug == slug))
        if muni is None:
            raise UserError("invite_bad_municipality", municipality=slug)
        return muni
    if by is not None and by.municipality_id is not None:
        return session.get(m.Municipality, by.municipality_id)
    return None


def redeem(session: Session, code: str, telegram_id: int, display_name: str, language: str,
           now: datetime) -> m.Member:
    """Register the person behind ``telegram_id`` with an invite's role (single use)."""
    invite = session.scalar(select(m.Invite).where(m.Invite.code == code))
    if invite is None:
        raise NotFound("invite_unknown")
    if invite.used_at is not None:
        raise UserError("invite_used")
    if invite.expires_at <= now:
        raise UserError("invite_expired")
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
        member.role, member.active = Role.COORDINATOR, True
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
