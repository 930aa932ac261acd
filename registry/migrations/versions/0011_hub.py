"""Hub mode: passages received from the compounds' gates, and keys bound to compounds.

``hub_passages`` is partitioned by month on ``at`` on PostgreSQL (RANGE; the month
partitions are made on demand by the ingest, in the schema ``hub_partitions``, beside a
DEFAULT partition made here so an insert never fails); on SQLite it is a plain table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:42:26.076846
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

PARTITION_SCHEMA = "hub_partitions"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "hub_edges",
        sa.Column("compound_id", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("compound_id", name=op.f("pk_hub_edges")),
    )
    op.create_table(
        "hub_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_hub_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_head")),
    )
    op.execute("INSERT INTO hub_head (id, last_hub_seq) VALUES (1, 0)")
    op.create_table(
        "hub_passages",
        sa.Column("hub_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compound_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replayed", sa.Boolean(), nullable=False),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("hub_seq", "at", name=op.f("pk_hub_passages")),
        sa.UniqueConstraint("uuid", "at", name=op.f("uq_hub_passages_uuid_at")),
        postgresql_partition_by="RANGE (at)",
    )
    with op.batch_alter_table("hub_passages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hub_passages_compound_hub_seq", ["compound_id", "hub_seq"], unique=False
        )
    if postgres:
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTITION_SCHEMA}")
        op.execute(
            f"CREATE TABLE {PARTITION_SCHEMA}.hub_passages_default "
            "PARTITION OF hub_passages DEFAULT"
        )

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compounds", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("compounds")

    with op.batch_alter_table("hub_passages", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_passages_compound_hub_seq")

    op.drop_table("hub_passages")  # its partitions with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA} CASCADE")
    op.drop_table("hub_head")
    op.drop_table("hub_edges")
