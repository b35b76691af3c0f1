"""The web view's access: one-time login links, sessions, personal calendar feeds, and the
key that signs session cookies when MEDLOFTE_WEB_SECRET is not set.

Every token is stored as its SHA-256 only: a copy of the database opens no session and no
feed. Four new tables; nothing existing changes.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _member_id() -> sa.Column[int]:
    return sa.Column("member_id", sa.Integer(), sa.ForeignKey("member.id"), nullable=False)


def upgrade() -> None:
    """Create ``web_login``, ``web_session``, ``calendar_feed`` and ``web_key``."""
    op.create_table(
        "web_login",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _member_id(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _member_id(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _member_id(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "web_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop the four tables (every web session and feed ends)."""
    for table in ("web_key", "calendar_feed", "web_session", "web_login"):
        op.drop_table(table)
