"""index passages by the passage they override

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:

    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_passages_overrides_seq"), ["overrides_seq"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passages_overrides_seq"))
