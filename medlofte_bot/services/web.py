"""Use cases of the web view's access: one-time login links, sessions, calendar feeds and the
key that signs the session cookie. Each is one short transaction that hands back plain values.

Tokens are random (``secrets``), shown once, and stored only as their SHA-256: a copy of
the database opens no session and no feed. A session ends when its member logs out, when it
expires, or when the member is deactivated (every request resolves the member again).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from medlofte_bot.domain.errors import NotFound, UserError
from medlofte_bot.domain.policy import Viewer, can_use_web, is_leader, is_police
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.members import viewer
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import insert_ignoring_duplicates
from medlofte_bot.storage.repository import PlanRepository, spend_once

LOGIN_VALID = timedelta(minutes=10)
SESSION_VALID = timedelta(hours=12)  # a working day or a night shift, then a new link
T = TypeVar("T")


def digest(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh secret for a link, a session or a feed (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class WebMember:
    """The member behind a web request, as the pages need them."""

    id: int
    name: str
    role: str
    language: str
    police: bool
    leader: bool


@dataclass(frozen=True)
class LoginLink:
    """A one-time login link's secret, for whom, and until when."""

    token: str
    expires_at: datetime
    member: WebMember


@dataclass(frozen=True)
class SignedIn:
    """A new session: its secret (for the cookie) and when it ends."""

    token: str
    expires_at: datetime
    member: WebMember


class NotSignedIn(UserError):
    """No valid session: the cookie is missing, forged, expired, logged out, or its member
    was deactivated."""

    def __init__(self) -> None:
        super().__init__("web.not_signed_in")


def web_member(session: Session, member: m.Member) -> tuple[WebMember, Viewer]:
    """A member row as the web layer sees it, with its access-rule view."""
    who = viewer(session, member)
    return WebMember(member.id, member.display_name, member.role, member.language,
                     is_police(who), is_leader(who)), who


class WebAccess:
    """Login links, sessions and feeds over the service context."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def login_link(self, telegram_id: int) -> LoginLink:
        """A one-time link for the active member with this Telegram id (valid LOGIN_VALID);
        NotFound for anyone else."""
        now = self.ctx.clock.now()
        with self.ctx.db.transaction() as session:
            member = session.scalar(select(m.Member).where(
                m.Member.telegram_id == telegram_id, m.Member.active.is_(True)))
            if member is None:
                raise NotFound("web.unknown_member", telegram_id=telegram_id)
            shown, who = web_member(session, member)
            if not can_use_web(who):
                raise NotFound("web.unknown_member", telegram_id=telegram_id)
            token = new_token()
            session.add(m.WebLogin(token_hash=digest(token), member_id=member.id,
                                   created_at=now, expires_at=now + LOGIN_VALID))
            return LoginLink(token, now + LOGIN_VALID, shown)

    def redeem(self, token: str) -> SignedIn:
        """Use a login link once: a new session. A used, expired or unknown link is refused
        (UserError with the reason's key); nothing is stored then."""
        now = self.ctx.clock.now()
        with self.ctx.db.transaction() as session:
            link = session.scalar(select(m.WebLogin).where(
                m.WebLogin.token_hash == digest(token)))
            if link is None:
                raise UserError("web.link_unknown")
            if link.used_at is not None:
                raise UserError("web.link_used")
            if link.expires_at <= now:
                raise UserError("web.link_expired")
            if not spend_once(session, m.WebLogin, link.id, now):  # of two tabs, one wins
                raise UserError("web.link_used")
            member = session.get(m.Member, link.member_id)
            if member is None or not member.active:
                raise UserError("web.link_unknown")
            shown, who = web_member(session, member)
            if not can_use_web(who):
                raise UserError("web.link_unknown")
            secret = new_token()
            session.add(m.WebSession(token_hash=digest(secret), member_id=member.id,
                                     created_at=now, expires_at=now + SESSION_VALID))
            PlanRepository(session).audit(now, f"member:{member.id}", "web_login", "member",
                                          member.id)
            return SignedIn(secret, now + SESSION_VALID, shown)

    def link_language(self, token: str) -> str | None:
        """The language of the member a login link is for (None: no such link); reads
        only, so showing the link's page spends nothing."""
        with self.ctx.db.transaction(write=False) as session:
            return session.scalar(select(m.Member.language).join(
                m.WebLogin, m.WebLogin.member_id == m.Member.id).where(
                m.WebLogin.token_hash == digest(token)))

    def member_row(self, session: Session, token: str | None) -> m.Member:
        """The active member behind a session token, in the caller's transaction; else
        NotSignedIn."""
        if not token:
            raise NotSignedIn()
        row = session.scalar(select(m.WebSession).where(m.WebSession.token_hash == digest(token)))
        now = self.ctx.clock.now()
        if row is None or row.ended_at is not None or row.expires_at <= now:
            raise NotSignedIn()
        member = session.get(m.Member, row.member_id)
        if member is None or not member.active or not can_use_web(viewer(session, member)):
            raise NotSignedIn()
        return member

    def run(self, token: str | None, body: Callable[[Session, m.Member], T],
            write: bool = False) -> T:
        """``body`` for the member behind the session ``token``, in one transaction."""
        def work(session: Session) -> T:
            member = self.member_row(session, token)
            try:
                return body(session, member)
            except UserError as exc:  # said in the member's language
                exc.lang = member.language
                raise
        return self.ctx.db.run(work, write)

    def who(self, token: str | None) -> WebMember:
        """The member behind a session (NotSignedIn otherwise)."""
        return self.run(token, lambda session, member: web_member(session, member)[0])

    def logout(self, token: str | None) -> bool:
        """End the session: the cookie opens nothing from now on. False if there was none."""
        if not token:
            return False
        now = self.ctx.clock.now()
        with self.ctx.db.transaction() as session:
            done = session.connection().execute(update(m.table_of(m.WebSession)).where(
                m.WebSession.token_hash == digest(token), m.WebSession.ended_at.is_(None))
                .values(ended_at=now))
            return done.rowcount == 1

    def new_feed(self, token: str | None) -> str:
        """A new personal calendar feed secret for the signed-in member; the last one is
        revoked in the same transaction."""
        now = self.ctx.clock.now()

        def body(session: Session, member: m.Member) -> str:
            session.connection().execute(update(m.table_of(m.CalendarFeed)).where(
                m.CalendarFeed.member_id == member.id, m.CalendarFeed.revoked_at.is_(None))
                .values(revoked_at=now))
            secret = new_token()
            session.add(m.CalendarFeed(token_hash=digest(secret), member_id=member.id,
                                       created_at=now))
            PlanRepository(session).audit(now, f"member:{member.id}", "calendar_feed_made",
                                          "member", member.id)
            return secret
        return self.run(token, body, write=True)

    def feed_made_at(self, session: Session, member: m.Member) -> datetime | None:
        """When the member's feed in use was made (None: they have none)."""
        return session.scalar(select(m.CalendarFeed.created_at).where(
            m.CalendarFeed.member_id == member.id, m.CalendarFeed.revoked_at.is_(None)))

    def feed_member(self, session: Session, token: str) -> m.Member | None:
        """The active member whose feed this is (None for a revoked or unknown one)."""
        row = session.scalar(select(m.CalendarFeed).where(
            m.CalendarFeed.token_hash == digest(token), m.CalendarFeed.revoked_at.is_(None)))
        member = session.get(m.Member, row.member_id) if row is not None else None
        if member is None or not member.active or not can_use_web(viewer(session, member)):
            return None
        return member

    def signing_key(self, configured: str | None) -> bytes:
        """The key for session cookies: MEDLOFTE_WEB_SECRET when set; else the one kept in
        the database, made by whichever process asks first (every process shares it)."""
        if configured:
            return configured.encode("utf-8")
        with self.ctx.db.transaction() as session:
            insert_ignoring_duplicates(session, m.WebKey, [{
                "id": 1, "secret": secrets.token_hex(32), "created_at": self.ctx.clock.now()}])
            secret = session.scalar(select(m.WebKey.secret).where(m.WebKey.id == 1))
        assert secret is not None
        return secret.encode("utf-8")
