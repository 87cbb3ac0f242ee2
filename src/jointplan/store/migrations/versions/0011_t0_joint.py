"""T0 by joint decision: requests put to a decision, and the decision a declaration came from

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "t0_requests",
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("scenario", sa.String(length=128), nullable=False),
        sa.Column("t0", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"]),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    op.create_index("ix_t0_requests_scenario", "t0_requests", ["scenario"])
    with op.batch_alter_table("t0_declarations") as batch:
        batch.add_column(sa.Column("decision_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("undeclared_decision", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("t0_declarations") as batch:
        batch.drop_column("undeclared_decision")
        batch.drop_column("decision_id")
    op.drop_index("ix_t0_requests_scenario", table_name="t0_requests")
    op.drop_table("t0_requests")
