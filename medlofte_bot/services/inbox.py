"""The update inbox: an update the webhook accepted is a row until its handlers are done.

Several processes share one database with no leader. ``accept`` records an update once
(``INSERT … ON CONFLICT DO NOTHING`` on ``update_id``: a resend by Telegram, to this process
or another, is a no-op) with a lease for the process that accepted it; ``done`` closes it;
``reclaim`` hands the open updates whose lease ran out (their process died) to this one.

Leases are in real time, whatever the bot's clock: callers pass ``now`` from the wall
clock, since a played year (an hour per second) would end a 60-second lease in 17 ms.
Each method is one short transaction and returns plain values.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.orm import Session

from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database, insert_ignoring_duplicates

LEASE = timedelta(seconds=60)  # an open update claimed longer ago is taken up again
KEEP_DONE = timedelta(days=2)  # done rows are pruned after this (Telegram resends for ~a day)
MAX_ATTEMPTS = 3  # an update whose handling killed its process this often is given up
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """An update to run: its id and the JSON Telegram sent."""

    update_id: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class InboxCounts:
    """Rows waiting (accepted, not done) and done, for metrics."""

    open: int
    done: int


class Inbox:
    """The inbox's use cases for one process (``worker`` names its leases)."""

    def __init__(self, db: Database, worker: str, lease: timedelta = LEASE) -> None:
        self.db = db
        self.worker = worker
        self.lease = lease

    def accept(self, update_id: int, payload: dict[str, Any], now: datetime) -> bool:
        """Record an update with this worker's lease; False when it was there already."""
        row = {"update_id": update_id, "payload": payload, "received_at": now,
               "claimed_by": self.worker, "claimed_at": now, "attempts": 1}
        with self.db.transaction() as session:
            return insert_ignoring_duplicates(session, m.UpdateInbox, [row]) == 1

    def done(self, update_ids: Sequence[int], now: datetime) -> int:
        """Mark updates handled; returns how many were open."""
        if not update_ids:
            return 0
        with self.db.transaction() as session:
            result = session.execute(
                update(m.UpdateInbox)
                .where(m.UpdateInbox.update_id.in_(list(update_ids)),
                       m.UpdateInbox.done_at.is_(None))
                .values(done_at=now), execution_options={"synchronize_session": False})
            return int(getattr(result, "rowcount", 0) or 0)

    def renew(self, update_ids: Sequence[int], now: datetime) -> int:
        """Extend this worker's leases on updates it still holds (queued or running)."""
        if not update_ids:
            return 0
        with self.db.transaction() as session:
            result = session.execute(
                update(m.UpdateInbox)
                .where(m.UpdateInbox.update_id.in_(list(update_ids)),
                       m.UpdateInbox.claimed_by == self.worker,
                       m.UpdateInbox.done_at.is_(None))
                .values(claimed_at=now), execution_options={"synchronize_session": False})
            return int(getattr(result, "rowcount", 0) or 0)

    def reclaim(self, now: datetime, limit: int = 100) -> list[Accepted]:
        """Take the open updates whose lease ran out (oldest first) for this worker.

        PostgreSQL: ``FOR UPDATE SKIP LOCKED`` so two processes never take the same row.
        SQLite: one process writes at a time. An update taken ``MAX_ATTEMPTS`` times is
        closed instead, with an error in the log: it kills whoever runs it.
        """
        stale = and_(m.UpdateInbox.done_at.is_(None), m.UpdateInbox.claimed_at < now - self.lease)
        with self.db.transaction() as session:
            query = (select(m.UpdateInbox.update_id, m.UpdateInbox.attempts)
                     .where(stale).order_by(m.UpdateInbox.update_id).limit(limit))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            given_up = [uid for uid, attempts in rows if attempts >= MAX_ATTEMPTS]
            taken = [uid for uid, attempts in rows if attempts < MAX_ATTEMPTS]
            if given_up:
                log.error("updates %s given up after %d attempts", given_up, MAX_ATTEMPTS)
                self._close(session, given_up, now)
            if not taken:
                return []
            session.execute(
                update(m.UpdateInbox).where(m.UpdateInbox.update_id.in_(taken))
                .values(claimed_by=self.worker, claimed_at=now,
                        attempts=m.UpdateInbox.attempts + 1),
                execution_options={"synchronize_session": False})
            payloads = session.execute(select(m.UpdateInbox.update_id, m.UpdateInbox.payload)
                                       .where(m.UpdateInbox.update_id.in_(taken))
                                       .order_by(m.UpdateInbox.update_id)).all()
            return [Accepted(int(uid), dict(payload)) for uid, payload in payloads]

    def prune(self, now: datetime, keep: timedelta = KEEP_DONE) -> int:
        """Delete done rows older than ``keep``; returns how many."""
        with self.db.transaction() as session:
            result = session.execute(
                delete(m.UpdateInbox).where(m.UpdateInbox.done_at.is_not(None),
                                            m.UpdateInbox.done_at < now - keep),
                execution_options={"synchronize_session": False})
            return int(getattr(result, "rowcount", 0) or 0)

    def counts(self) -> InboxCounts:
        """How many rows are open and done (a read)."""
        with self.db.transaction(write=False) as session:
            rows = session.execute(select(m.UpdateInbox.done_at.is_(None), func.count())
                                   .group_by(m.UpdateInbox.done_at.is_(None))).all()
        by = {bool(is_open): int(n) for is_open, n in rows}
        return InboxCounts(by.get(True, 0), by.get(False, 0))

    @staticmethod
    def _close(session: Session, update_ids: Sequence[int], now: datetime) -> None:
        session.execute(update(m.UpdateInbox).where(m.UpdateInbox.update_id.in_(update_ids))
                        .values(done_at=now), execution_options={"synchronize_session": False})
