"""passages, rules, exemptions, visitors, registry revision

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:

    op.create_table(
        "passage_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passage_chain")),
    )
    op.create_table(
        "passages",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_time", sa.String(length=32), nullable=False),
        sa.Column("lane", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("credential_kind", sa.String(length=16), nullable=False),
        sa.Column("identity_kind", sa.String(length=16), nullable=False),
        sa.Column("person_ref", sa.String(length=36), nullable=True),
        sa.Column("household_ref", sa.String(length=36), nullable=True),
        sa.Column("document_hash", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("alert", sa.String(length=8), nullable=False),
        sa.Column("opens_barrier", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("overrides_seq", sa.BigInteger(), nullable=True),
        sa.Column("temperature", sa.Double(), nullable=True),
        sa.Column("snapshot_ref", sa.String(length=200), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_passages")),
        sa.UniqueConstraint("row_hash", name=op.f("uq_passages_row_hash")),
        sa.UniqueConstraint("uuid", name=op.f("uq_passages_uuid")),
    )
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passages_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_passages_household_ref"), ["household_ref"], unique=False
        )
        batch_op.create_index("ix_passages_person_seq", ["person_ref", "seq"], unique=False)

    op.create_table(
        "registry_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_revision")),
    )
    op.create_table(
        "rules",
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_rules")),
    )
    op.create_table(
        "visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "doc_type",
            sa.Enum(
                "resident_id",
                "hmt_residence_permit",
                "foreign_permanent_2017",
                "foreign_permanent_2023",
                "passport",
                "other",
                name="ck_documenttype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("number_hash", sa.String(length=64), nullable=False),
        sa.Column("number_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("number_last4", sa.String(length=4), nullable=False),
        sa.Column("host_household_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=100), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_household_id"],
            ["households.id"],
            name=op.f("fk_visitors_host_household_id_households"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visitors")),
        sa.UniqueConstraint("ref", name=op.f("uq_visitors_ref")),
    )
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visitors_number_hash"), ["number_hash"], unique=False)

    op.create_table(
        "exemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_exemptions_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exemptions")),
    )
    with op.batch_alter_table("exemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exemptions_person_id"), ["person_id"], unique=False)

    _seed_data()


ALWAYS = datetime(2020, 1, 1, tzinfo=UTC)

# The rule set a compound starts with, written out here (not imported) so that this
# migration seeds the same rows whatever later code says. Epidemic-time rules (quota,
# curfew) exist but are not in force until an administrator gives them a start date.
DEFAULT_RULES = [
    ("quarantine", "quarantine", "hard", {}, ALWAYS),
    ("health-monitoring", "health_monitoring", "soft", {}, ALWAYS),
    ("key-person", "key_person", "hard", {}, ALWAYS),
    ("outsider", "outsider", "hard", {}, ALWAYS),
    ("visitor-window", "visitor_window", "hard", {}, ALWAYS),
    (
        "household-quota",
        "household_quota",
        "hard",
        {"persons": 1, "period_hours": 48, "max_outside_hours": None},
        None,
    ),
    ("curfew-out", "curfew", "hard", {"direction": "out", "start": "23:00", "end": "05:00"}, None),
    ("fever", "fever", "hard", {"threshold": 37.3}, ALWAYS),
    ("anti-passback", "anti_passback", "soft", {}, ALWAYS),
    ("card-expired", "card_expired", "hard", {}, ALWAYS),
]


def _seed_data() -> None:
    chain = sa.table(
        "passage_chain", sa.column("id"), sa.column("last_seq"), sa.column("last_hash")
    )
    op.bulk_insert(chain, [{"id": 1, "last_seq": 0, "last_hash": "0" * 64}])
    revision_table = sa.table("registry_revision", sa.column("id"), sa.column("revision"))
    op.bulk_insert(revision_table, [{"id": 1, "revision": 0}])
    rules = sa.table(
        "rules",
        sa.column("rule_id"),
        sa.column("kind"),
        sa.column("mode"),
        sa.column("params", sa.JSON()),
        sa.column("effective_from", sa.DateTime(timezone=True)),
        sa.column("effective_to", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("updated_by"),
    )
    op.bulk_insert(
        rules,
        [
            {
                "rule_id": rule_id,
                "kind": kind,
                "mode": mode,
                "params": params,
                "effective_from": effective_from,
                "effective_to": None,
                "updated_at": ALWAYS,
                "updated_by": "migration 0002",
            }
            for rule_id, kind, mode, params, effective_from in DEFAULT_RULES
        ],
    )


def downgrade() -> None:

    with op.batch_alter_table("exemptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exemptions_person_id"))

    op.drop_table("exemptions")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visitors_number_hash"))

    op.drop_table("visitors")
    op.drop_table("rules")
    op.drop_table("registry_revision")
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.drop_index("ix_passages_person_seq")
        batch_op.drop_index(batch_op.f("ix_passages_household_ref"))
        batch_op.drop_index(batch_op.f("ix_passages_at"))

    op.drop_table("passages")
    op.drop_table("passage_chain")
