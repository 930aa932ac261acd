"""unit heads: a staff account's units

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 22:47:42

A unit head (单元长) sees only the units of their account, written ``"building/unit"``;
``building_keys`` keeps holding their buildings. Every other account has none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_keys", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.drop_column("unit_keys")
