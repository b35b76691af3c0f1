"""The update inbox: every update a webhook accepted, until its handlers are done.

Several bot processes share one database with no leader. The webhook answers Telegram 200
only once the update is a row here (``update_id`` is the key, so a resend is a no-op);
the process that accepted it holds a lease (``claimed_by``, ``claimed_at``) until its
handlers finish (``done_at``). A lease that runs out with the update not done (its process
died) is taken up by another process. Done rows are pruned after a while.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``update_inbox``."""
    op.create_table(
        "update_inbox",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(60), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    # recovery looks for open rows by lease age; pruning for old done rows
    op.create_index("ix_update_inbox_open", "update_inbox", ["done_at", "claimed_at"])


def downgrade() -> None:
    """Drop ``update_inbox`` (updates accepted and not yet handled are lost)."""
    op.drop_index("ix_update_inbox_open", table_name="update_inbox")
    op.drop_table("update_inbox")
