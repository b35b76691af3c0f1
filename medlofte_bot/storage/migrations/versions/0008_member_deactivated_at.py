"""Records by rule: members remember when they were deactivated (and when their name was
cleared), so the name can be replaced by the role after a set time; an applied promise set
remembers how long its notes are kept after the year ends.

Three nullable columns added in place; a member already deactivated gets the time of their
``member_deactivated`` audit entry; a stored set keeps its notes (NULL) until applied again.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``member.deactivated_at`` (filled from the audit), ``member.name_cleared_at`` and
    ``promise_set.notes_kept_months``."""
    op.add_column("member", sa.Column("deactivated_at", sa.DateTime(timezone=True),
                                      nullable=True))
    op.add_column("member", sa.Column("name_cleared_at", sa.DateTime(timezone=True),
                                      nullable=True))
    op.add_column("promise_set", sa.Column("notes_kept_months", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE member SET deactivated_at = (SELECT MAX(a.at) FROM audit_entry a"
        " WHERE a.action = 'member_deactivated' AND a.entity = 'member'"
        " AND a.entity_id = CAST(member.id AS VARCHAR(60))) WHERE NOT member.active")


def downgrade() -> None:
    """Drop the three columns."""
    with op.batch_alter_table("promise_set") as batch:
        batch.drop_column("notes_kept_months")
    with op.batch_alter_table("member") as batch:
        batch.drop_column("name_cleared_at")
        batch.drop_column("deactivated_at")
