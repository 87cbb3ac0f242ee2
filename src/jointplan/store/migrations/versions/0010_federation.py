"""federation: the node's identity, peers, keys, and the releases sent and held

Revision ID: 0010
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=8), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("changed", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_key"),
    )
    op.create_index("ix_federation_keys_owner", "federation_keys", ["owner"])
    op.create_table(
        "federation_node",
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("key_file", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("partner"),
    )
    op.create_table(
        "federation_peers",
        sa.Column("partner", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("added", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("partner"),
    )
    op.create_table(
        "federation_sent",
        sa.Column("receiver", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.String(length=64), nullable=False),
        sa.Column("bundle", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("receiver"),
    )
    op.create_table(
        "federation_held",
        sa.Column("sender", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("received", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sender"),
    )
    op.create_table(
        "federation_seen",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )


    op.create_table(
        "federation_offers",
        sa.Column("plan_id", sa.String(length=128), nullable=False),
        sa.Column("task", sa.String(length=128), nullable=False),
        sa.Column("offer", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "task"),
    )
    op.create_table(
        "federation_psi_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("peer", sa.String(length=8), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("collisions", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_federation_psi_runs_peer", "federation_psi_runs", ["peer"])


def downgrade() -> None:
    op.drop_index("ix_federation_psi_runs_peer", table_name="federation_psi_runs")
    for name in ("federation_psi_runs", "federation_offers", "federation_seen",
                 "federation_held", "federation_sent", "federation_peers",
                 "federation_node"):
        op.drop_table(name)
    op.drop_index("ix_federation_keys_owner", table_name="federation_keys")
    op.drop_table("federation_keys")
