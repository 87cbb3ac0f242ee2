"""real time: declared T0s, each user's time zone, calendar feed secrets

Revision ID: 0007
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "t0_declarations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("scenario", sa.String(length=128), nullable=False),
        sa.Column("t0", sa.DateTime(), nullable=False),
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("undeclared", sa.DateTime(), nullable=True),
        sa.Column("undeclared_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_t0_declarations_scenario", "t0_declarations", ["scenario"])
    op.create_table(
        "t0_preferences",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "t0_calendar_feeds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("revoked", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_index("ix_t0_calendar_feeds_user_id", "t0_calendar_feeds", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_t0_calendar_feeds_user_id", table_name="t0_calendar_feeds")
    op.drop_table("t0_calendar_feeds")
    op.drop_table("t0_preferences")
    op.drop_index("ix_t0_declarations_scenario", table_name="t0_declarations")
    op.drop_table("t0_declarations")
