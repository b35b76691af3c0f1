"""Teams belong to the police area: one row per (police area, key), shared by its municipalities.

Until now a team was unique per municipality, so a team that two municipalities' files
name was two rows and could be booked in two towns at once. The upgrade adds
``team.police_area`` (from the team's municipality), folds rows with the same area and key
into the oldest one (tasks, members and invites follow it; a registered group is kept),
and adds a unique index on (police_area, key). The old unique (municipality_id, key) stays:
a municipality lies in one area, so the new key implies it, and dropping it would mean
rebuilding the table on SQLite under the tasks' and members' foreign keys.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``team.police_area``, fold duplicates, make (police_area, key) unique."""
    op.add_column("team", sa.Column("police_area", sa.String(length=120), nullable=False,
                                    server_default=""))
    op.execute("UPDATE team SET police_area = (SELECT m.police_area FROM municipality m "
               "WHERE m.id = team.municipality_id)")
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, police_area, key, group_chat_id FROM team ORDER BY id")).all()
    keep: dict[tuple[str, str], int] = {}
    for team_id, area, key, group in rows:
        first = keep.setdefault((area, key), team_id)
        if first == team_id:
            continue
        for table in ("task", "member", "invite"):
            conn.execute(sa.text(f"UPDATE {table} SET team_id = :first WHERE team_id = :dup"),
                         {"first": first, "dup": team_id})
        if group is not None:
            conn.execute(sa.text("UPDATE team SET group_chat_id = :g WHERE id = :first "
                                 "AND group_chat_id IS NULL"), {"g": group, "first": first})
        conn.execute(sa.text("DELETE FROM team WHERE id = :dup"), {"dup": team_id})
    op.create_index("uq_team_area_key", "team", ["police_area", "key"], unique=True)


def downgrade() -> None:
    """Drop the area key (teams folded by the upgrade stay one row)."""
    op.drop_index("uq_team_area_key", "team")
    op.drop_column("team", "police_area")  # SQLite 3.35+ drops a column in place
