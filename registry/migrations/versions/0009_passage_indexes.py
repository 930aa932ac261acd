"""passage indexes for presence and tracing

Presence reads each person's latest passage that opened the barrier (a partial index);
tracing looks passages up by document hash (partial: most rows have none) and by person in
a time window, so (person_ref, at) replaces (person_ref, seq), which only the old
presence query used.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

# Each engine's rendering of the model's predicate (registry.models.passage_opened_barrier):
# the query repeats it, and SQLite uses a partial index only for a query with the same terms.
_OPENED_SQLITE = "opens_barrier IS 1 AND person_ref IS NOT NULL"
_OPENED_POSTGRESQL = "opens_barrier IS true AND person_ref IS NOT NULL"
_HAS_DOCUMENT = "document_hash IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.drop_index("ix_passages_person_seq")
        batch_op.create_index("ix_passages_person_at", ["person_ref", "at"], unique=False)
        batch_op.create_index(
            "ix_passages_document_at",
            ["document_hash", "at"],
            unique=False,
            sqlite_where=sa.text(_HAS_DOCUMENT),
            postgresql_where=sa.text(_HAS_DOCUMENT),
        )
        batch_op.create_index(
            "ix_passages_presence",
            ["person_ref", "seq"],
            unique=False,
            sqlite_where=sa.text(_OPENED_SQLITE),
            postgresql_where=sa.text(_OPENED_POSTGRESQL),
        )


def downgrade() -> None:
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.drop_index("ix_passages_presence")
        batch_op.drop_index("ix_passages_document_at")
        batch_op.drop_index("ix_passages_person_at")
        batch_op.create_index("ix_passages_person_seq", ["person_ref", "seq"], unique=False)
