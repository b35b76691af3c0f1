"""Use case: the coordinator's comment on a promise, for the year report (/kommentar)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.domain.errors import NotAllowed, NotFound, UserError
from medlofte_bot.domain.policy import can_comment, is_leader
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.services.members import viewer
from medlofte_bot.storage import models as m
from medlofte_bot.storage.repository import PlanRepository

COMMENT_MAX = 2000  # a comment is a paragraph of the report, not a document


@dataclass(frozen=True)
class Commented:
    """A comment stored on a promise: which one, of which municipality and year."""

    promise: str
    title: str
    municipality: str
    year: int
    comment: str
    replaced: bool  # an earlier comment was replaced


def _pick(rows: list[m.Promise], now: datetime, sets: Mapping[tuple[str, int], PromiseSet]
          ) -> list[m.Promise]:
    """The promises of the year under way (by the promise set's own time zone), else of
    the latest year stored."""
    def current(row: m.Promise) -> bool:
        ps = sets.get((row.municipality.slug, row.year))
        return ps is not None and now.astimezone(ps.tz).year == row.year

    this_year = [r for r in rows if current(r)]
    if this_year:
        return this_year
    latest = max((r.year for r in rows), default=None)
    return [r for r in rows if r.year == latest]


def set_comment(session: Session, sets: Mapping[tuple[str, int], PromiseSet],
                member: m.Member, promise: str, text: str, now: datetime) -> Commented:
    """Store ``text`` as the comment on ``promise`` ("krogtillsyn", or "arvidsjaur:krogtillsyn"
    when several municipalities of the area have it); chiefs and coordinators only."""
    who = viewer(session, member)
    if not is_leader(who):
        raise NotAllowed("comment.not_allowed")
    text = " ".join(text.split())[:COMMENT_MAX]
    slug, _, key = promise.lower().rpartition(":")
    if not key or not text:
        raise UserError("comment.usage")
    query = select(m.Promise).join(m.Municipality).where(m.Promise.key == key)
    if slug:
        query = query.where(m.Municipality.slug == slug)
    rows = [r for r in session.scalars(query) if can_comment(who, r.municipality_id)]
    chosen = _pick(rows, now, sets)
    if not chosen:
        known = sorted({f"{r.key} ({r.title})" for r in session.scalars(select(m.Promise))
                        if can_comment(who, r.municipality_id)})
        raise NotFound("comment.unknown", promise=promise, known=", ".join(known) or "–")
    if len(chosen) > 1:
        raise UserError("comment.ambiguous", choices=", ".join(
            sorted(f"{r.municipality.slug}:{r.key}" for r in chosen)))
    row = chosen[0]
    before = row.comment
    row.comment, row.comment_by, row.comment_at = text, member.id, now
    PlanRepository(session).audit(now, f"member:{member.id}", "commented", "promise", row.id,
                                  {"comment": before}, {"comment": text})
    return Commented(row.key, row.title, row.municipality.name, row.year, text,
                     bool(before))
