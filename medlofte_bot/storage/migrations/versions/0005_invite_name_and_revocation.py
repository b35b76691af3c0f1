"""Invites carry the name of the person they are for, and can be revoked before use.

Two nullable columns, added in place (SQLite and PostgreSQL both add a nullable column
without rewriting the table); existing invites keep working unchanged.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``invite.name`` and ``invite.revoked_at``."""
    op.add_column("invite", sa.Column("name", sa.String(length=60), nullable=True))
    op.add_column("invite", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop both columns (a revoked invite would become usable again)."""
    with op.batch_alter_table("invite") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("name")
