"""An outbox row may carry what its message is about beyond its task: a notice that a task
was moved (from when), missed (what the re-plan did), or an invitation asked again.

One nullable JSON column, added in place; existing rows keep working (NULL: nothing more).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``reminder.detail``."""
    op.add_column("reminder", sa.Column("detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``reminder.detail`` (pending notices lose what they were to say)."""
    with op.batch_alter_table("reminder") as batch:
        batch.drop_column("detail")
