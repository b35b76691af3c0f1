"""Reminders with a recipient key that is never NULL, and the sent-message log apart.

Until 0003 the reminder table also held the cards and prompts a reply is matched to, and
the Monday summaries with their date packed into ``kind``; its unique constraint never
fired, because every row had ``member_id`` or ``chat_id`` NULL. Every row is kept:
- each sent message with a message id goes to ``sent_message`` (chat and message id);
- cards and prompts leave the reminder table (they were a log, not something owed);
- the rest get ``subject`` ("task:17", "week:2015-03-02") and ``recipient`` ("member:5",
  "chat:-1001"); duplicates of one (subject, kind, recipient), if any, keep the first.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG_KINDS = ("card", "prompt_move", "prompt_cancel", "prompt_follow_up")
SUMMARY_PREFIX = "weekly_summary:"
COLUMNS = ("id", "subject", "kind", "recipient", "task_id", "member_id", "chat_id", "due_at",
           "state", "attempts", "claimed_by", "claimed_at", "sent_at", "message_id", "late",
           "error")


def _sent_kind(kind: str, task_id: int | None) -> str:
    if kind in LOG_KINDS:
        return kind
    return "summary" if task_id is None else "reminder"


def _subject_kind(row: Any) -> tuple[str, str]:
    if row.kind.startswith(SUMMARY_PREFIX):
        return f"week:{row.kind.removeprefix(SUMMARY_PREFIX)}", "weekly_summary"
    return (f"task:{row.task_id}" if row.task_id is not None else f"row:{row.id}"), row.kind


def upgrade() -> None:
    """Split the log off, give every reminder its keys, and recreate the table."""
    conn = op.get_bind()
    op.create_table(
        "sent_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), nullable=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("member.id"), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", "message_id", name="uq_sent_message"),
    )
    rows = conn.execute(sa.text(
        "SELECT r.*, m.telegram_id FROM reminder r LEFT JOIN member m ON m.id = r.member_id "
        "ORDER BY r.id")).all()
    sent: dict[tuple[int, int], dict[str, Any]] = {}
    for r in rows:
        chat = r.chat_id if r.chat_id is not None else r.telegram_id
        if r.message_id is None or chat is None or r.state != "sent":
            continue
        sent[(chat, r.message_id)] = {  # the latest row for a message wins, as replies read it
            "chat_id": chat, "message_id": r.message_id, "kind": _sent_kind(r.kind, r.task_id),
            "task_id": r.task_id, "member_id": r.member_id, "sent_at": r.sent_at or r.due_at}
    if sent:
        conn.execute(sa.text(
            "INSERT INTO sent_message (chat_id, message_id, kind, task_id, member_id, sent_at) "
            "VALUES (:chat_id, :message_id, :kind, :task_id, :member_id, :sent_at)"),
            list(sent.values()))
    kept: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        if r.kind in LOG_KINDS:
            continue
        recipient = f"chat:{r.chat_id}" if r.chat_id is not None else f"member:{r.member_id}"
        subject, kind = _subject_kind(r)
        values = {c: getattr(r, c) for c in COLUMNS if c not in ("subject", "kind", "recipient")}
        kept.setdefault((subject, kind, recipient),
                        {**values, "subject": subject, "kind": kind, "recipient": recipient})
    op.drop_table("reminder")
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("recipient", sa.String(length=40), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), nullable=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("member.id"), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=60), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject", "kind", "recipient", name="uq_reminder_once"),
    )
    op.create_index("ix_reminder_due", "reminder", ["state", "due_at"])
    op.create_index("ix_reminder_task", "reminder", ["task_id"])
    if kept:
        names = ", ".join(COLUMNS)
        params = ", ".join(f":{c}" for c in COLUMNS)
        conn.execute(sa.text(f"INSERT INTO reminder ({names}) VALUES ({params})"),
                     list(kept.values()))
    if conn.dialect.name == "postgresql":  # ids were copied: move the sequence past them
        conn.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('reminder', 'id'), "
            "COALESCE((SELECT MAX(id) FROM reminder), 0) + 1, false)"))


def downgrade() -> None:
    """Not supported: the log and the keys cannot be folded back without loss."""
    raise NotImplementedError("0004 cannot be downgraded; restore a backup instead")
