"""resolutions: the solver's moves for one leaf, confirmed and filed as proposals

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resolutions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("scenario", sa.String(length=128), nullable=False),
        sa.Column("conflict", sa.String(length=32), nullable=True),
        sa.Column("time_limit", sa.Integer(), nullable=False),
        sa.Column("head", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("moves", sa.JSON(), nullable=False),
        sa.Column("views", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_resolutions_partner", "resolutions", ["partner"])


def downgrade() -> None:
    op.drop_index("ix_resolutions_partner", table_name="resolutions")
    op.drop_table("resolutions")
