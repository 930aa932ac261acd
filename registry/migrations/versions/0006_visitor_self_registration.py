"""visitor self-registration

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="confirmed", nullable=False)
        )
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="guard", nullable=False)
        )
        batch_op.add_column(sa.Column("phone_cipher", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("phone_last4", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("stay_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("host_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_visitors_host_code_hash"), ["host_code_hash"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_visitors_status_code_hash"), ["status_code_hash"]
        )


def downgrade() -> None:
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_visitors_status_code_hash"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_visitors_host_code_hash"), type_="unique")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("host_code_hash")
        batch_op.drop_column("status_code_hash")
        batch_op.drop_column("stay_minutes")
        batch_op.drop_column("phone_last4")
        batch_op.drop_column("phone_cipher")
        batch_op.drop_column("source")
        batch_op.drop_column("status")
