"""Delivery cursors: how far each events-out relay (MQTT, webhooks) delivered the log.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:33:42.992705
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_cursors",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_delivery_cursors")),
    )


def downgrade() -> None:
    op.drop_table("delivery_cursors")
