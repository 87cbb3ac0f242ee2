"""drills: exercises run live, deliveries (each once), actions, ratings and improvement items

Revision ID: 0009
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drill_exercises",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("controllers", sa.JSON(), nullable=False),
        sa.Column("players", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("speed", sa.Integer(), nullable=False),
        sa.Column("anchor_wall", sa.DateTime(), nullable=True),
        sa.Column("anchor_minutes", sa.Float(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_drill_exercises_state", "drill_exercises", ["state"])
    op.create_table(
        "drill_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("exercise_id", sa.String(length=32), nullable=False),
        sa.Column("inject", sa.String(length=128), nullable=False),
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Float(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("by_hand", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["exercise_id"], ["drill_exercises.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exercise_id", "inject", "partner"),
    )
    op.create_index("ix_drill_deliveries_exercise_id", "drill_deliveries", ["exercise_id"])
    op.create_index("ix_drill_deliveries_partner", "drill_deliveries", ["partner"])
    op.create_table(
        "drill_actions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("exercise_id", sa.String(length=32), nullable=False),
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("task", sa.String(length=260), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["exercise_id"], ["drill_exercises.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_drill_actions_exercise_id", "drill_actions", ["exercise_id"])
    op.create_table(
        "drill_ratings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("exercise_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("rating", sa.String(length=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["exercise_id"], ["drill_exercises.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_drill_ratings_exercise_id", "drill_ratings", ["exercise_id"])
    op.create_table(
        "drill_improvements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("exercise_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=8), nullable=False),
        sa.Column("due", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposal_id", sa.String(length=32), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["exercise_id"], ["drill_exercises.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_drill_improvements_exercise_id", "drill_improvements",
                    ["exercise_id"])


def downgrade() -> None:
    op.drop_table("drill_improvements")
    op.drop_table("drill_ratings")
    op.drop_table("drill_actions")
    op.drop_table("drill_deliveries")
    op.drop_table("drill_exercises")
