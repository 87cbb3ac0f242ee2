"""collaboration pages: decisions with title, deadline and outcome; notifications with a
link and per-user read state; observations corrected or retracted, never deleted

Revision ID: 0008
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("title", sa.String(length=300), nullable=False,
                                         server_default=""))
    op.add_column("decisions", sa.Column("deadline", sa.DateTime(), nullable=True))
    op.add_column("decisions", sa.Column("outcome", sa.Text(), nullable=True))
    op.add_column("decisions", sa.Column("closed", sa.DateTime(), nullable=True))
    op.add_column("decisions", sa.Column("closed_by", sa.String(length=32), nullable=True))
    op.add_column("notifications", sa.Column("kind", sa.String(length=24), nullable=False,
                                             server_default="notice"))
    op.add_column("notifications", sa.Column("link", sa.String(length=300), nullable=True))
    op.add_column("observations", sa.Column("state", sa.String(length=16), nullable=False,
                                            server_default="current"))
    op.create_table(
        "collab_notification_reads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("notification_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id", "user_id"),
    )
    op.create_index("ix_collab_notification_reads_notification_id",
                    "collab_notification_reads", ["notification_id"])
    op.create_index("ix_collab_notification_reads_user_id", "collab_notification_reads",
                    ["user_id"])
    op.create_table(
        "collab_observation_amendments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("observation_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("replacement_id", sa.String(length=32), nullable=True),
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["observation_id"], ["observations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_collab_observation_amendments_observation_id",
                    "collab_observation_amendments", ["observation_id"])


def downgrade() -> None:
    op.drop_table("collab_observation_amendments")
    op.drop_table("collab_notification_reads")
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("state")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("link")
        batch.drop_column("kind")
    with op.batch_alter_table("decisions") as batch:
        for name in ("closed_by", "closed", "outcome", "deadline", "title"):
            batch.drop_column(name)
