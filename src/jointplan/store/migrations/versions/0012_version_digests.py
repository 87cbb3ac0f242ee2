"""What each plan version says, as a digest stored with it

Revision ID: 0012
Revises: 0011
"""

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _digest(doc: Any) -> str | None:
    """As `tables.doc_digest` made it when this revision was written."""
    if doc is None:
        return None
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("plan_versions") as batch:
        batch.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, doc FROM plan_versions")).all()
    for version_id, doc in rows:
        if isinstance(doc, str | bytes):  # SQLite hands JSON back as text
            doc = json.loads(doc)
        bind.execute(sa.text("UPDATE plan_versions SET digest = :digest WHERE id = :id"),
                     {"digest": _digest(doc), "id": version_id})


def downgrade() -> None:
    with op.batch_alter_table("plan_versions") as batch:
        batch.drop_column("digest")
