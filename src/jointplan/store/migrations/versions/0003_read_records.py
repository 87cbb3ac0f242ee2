"""analysis records once per result, audit heads by action

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("head", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner", "digest"),
    )
    op.create_index("ix_audit_action_seq", "audit", ["action", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_action_seq", table_name="audit")
    op.drop_table("analysis_records")
