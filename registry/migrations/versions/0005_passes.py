"""QR passes and their enrollment links

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "passes",
        sa.Column("pass_id", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "resident",
                "visitor",
                "invite",
                "escorted_exit",
                name="ck_passkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_ref", sa.String(length=36), nullable=False),
        sa.Column("household_ref", sa.String(length=36), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotating", sa.Boolean(), nullable=False),
        sa.Column("key_id", sa.String(length=4), nullable=False),
        sa.Column("signed", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("pass_id", name=op.f("pk_passes")),
    )
    with op.batch_alter_table("passes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passes_not_after"), ["not_after"], unique=False)
        batch_op.create_index(batch_op.f("ix_passes_subject_ref"), ["subject_ref"], unique=False)

    op.create_table(
        "pass_enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("pass_id", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pass_id"],
            ["passes.pass_id"],
            name=op.f("fk_pass_enrollments_pass_id_passes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_enrollments")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_pass_enrollments_code_hash")),
    )
    with op.batch_alter_table("pass_enrollments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pass_enrollments_pass_id"), ["pass_id"], unique=False)

    # An invited visitor is known by name until they show a document.
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        for column, kind in _VISITOR_DOCUMENT:
            batch_op.alter_column(column, existing_type=kind, nullable=True)


_VISITOR_DOCUMENT = (
    ("doc_type", sa.String(length=32)),
    ("number_hash", sa.String(length=64)),
    ("number_cipher", sa.LargeBinary()),
    ("number_last4", sa.String(length=4)),
)


def downgrade() -> None:
    op.execute("DELETE FROM visitors WHERE number_hash IS NULL")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        for column, kind in _VISITOR_DOCUMENT:
            batch_op.alter_column(column, existing_type=kind, nullable=False)
    with op.batch_alter_table("pass_enrollments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pass_enrollments_pass_id"))

    op.drop_table("pass_enrollments")
    with op.batch_alter_table("passes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passes_subject_ref"))
        batch_op.drop_index(batch_op.f("ix_passes_not_after"))

    op.drop_table("passes")
