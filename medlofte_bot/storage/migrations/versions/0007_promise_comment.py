"""A promise carries the coordinator's comment for the year report (``/kommentar``).

Three nullable columns, added in place: the text, who wrote it and when. Existing promises
have no comment; the promise-set file's ``comment`` is used until one is written in chat.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``promise.comment``, ``promise.comment_by`` and ``promise.comment_at``."""
    op.add_column("promise", sa.Column("comment", sa.Text(), nullable=True))
    op.add_column("promise", sa.Column("comment_by", sa.Integer(), nullable=True))
    op.add_column("promise", sa.Column("comment_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the three columns (the comments written in chat are lost)."""
    with op.batch_alter_table("promise") as batch:
        batch.drop_column("comment_at")
        batch.drop_column("comment_by")
        batch.drop_column("comment")
