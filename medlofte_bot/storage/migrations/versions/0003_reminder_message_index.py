"""Index reminders by message id: replies are matched to the message they answer.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the index."""
    op.create_index("ix_reminder_message", "reminder", ["message_id"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_reminder_message", table_name="reminder")
