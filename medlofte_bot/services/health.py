"""What readiness and metrics ask of the database: short reads returning plain values."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from medlofte_bot.domain.states import ReminderState
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database

log = logging.getLogger(__name__)


class Health:
    """Readiness and the waiting counts over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def not_ready(self) -> str | None:
        """None when the database answers and its schema is at the newest migration;
        otherwise a short reason."""
        try:
            at_head = self.db.at_head()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("readiness: database unreachable: %s", exc)
            return "database unreachable"
        return None if at_head else "migrations not at head"

    def waiting(self, now: datetime) -> tuple[int, int]:
        """(reminders due and still pending at ``now``, updates accepted and not done)."""
        with self.db.transaction(write=False) as session:
            due = session.scalar(select(func.count()).select_from(m.Reminder).where(
                m.Reminder.state == ReminderState.PENDING, m.Reminder.due_at <= now))
            open_updates = session.scalar(select(func.count()).select_from(m.UpdateInbox)
                                          .where(m.UpdateInbox.done_at.is_(None)))
        return int(due or 0), int(open_updates or 0)
