"""rate counters and idempotent responses

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_counters',
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('period', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', 'period')
    )
    op.create_table('idempotent_responses',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('media_type', sa.String(length=64), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'key')
    )
    with op.batch_alter_table('idempotent_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotent_responses_created'), ['created'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotent_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotent_responses_created'))
    op.drop_table('idempotent_responses')
    op.drop_table('rate_counters')
