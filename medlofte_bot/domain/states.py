"""The closed sets of values that rows carry: a task's status, a role, a reminder's state.

StrEnums, so a value reads and stores as its plain word ("pending") and compares equal to it.
"""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    """Where a planned task stands."""

    PENDING = "pending"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Role(StrEnum):
    """What a member is in the bot."""

    OFFICER = "officer"
    PARTNER = "partner"
    CHIEF = "chief"
    COORDINATOR = "coordinator"


POLICE_ROLES = frozenset({Role.OFFICER, Role.CHIEF, Role.COORDINATOR})
LEADERS = frozenset({Role.CHIEF, Role.COORDINATOR})


class Visibility(StrEnum):
    """Who may see a task: police only, invited partners too, or everyone in the bot."""

    POLICE = "police"
    PARTNERS = "partners"
    PUBLIC = "public"


class ReminderState(StrEnum):
    """An outbox row's life: pending -> claimed -> sent | skipped | failed | folded."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    SKIPPED = "skipped"  # no longer needed (task done, partner joined, member gone)
    FAILED = "failed"  # blocked, chat gone or refused for good
    FOLDED = "folded"  # went out inside a digest of stale reminders


class MessageKind(StrEnum):
    """What a message the bot sent was, so a reply to it can be understood."""

    CARD = "card"
    PROMPT_MOVE = "prompt_move"
    PROMPT_CANCEL = "prompt_cancel"
    PROMPT_FOLLOW_UP = "prompt_follow_up"
    REMINDER = "reminder"
    SUMMARY = "summary"
    DIGEST = "digest"
    ALERT = "alert"


class SendOutcome(StrEnum):
    """What Telegram's answer to one send means for the outbox."""

    SENT = "sent"
    RETRY = "retry"  # 429, network trouble, 5xx: try again later
    BLOCKED = "blocked"  # the person blocked the bot or never started it (403)
    CHAT_GONE = "chat_gone"  # chat not found, bot kicked, group upgraded
    TOO_LONG = "too_long"  # refused as too long or malformed: never retried
    SKIPPED = "skipped"  # the outbox decided nothing needs sending
