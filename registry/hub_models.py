"""The hub's tables: passages received from the compounds' gates, and where each edge is.

``hub_passages`` is the hub's feed: ``hub_seq`` is its cursor, given out under the lock on
``hub_head`` (held until commit, so rows commit in ``hub_seq`` order from any number of
processes). On PostgreSQL it is partitioned by month on ``at`` (RANGE); the partitions
live in the schema ``hub_partitions`` (made on demand by ``registry.hub_store``, plus a
DEFAULT one from the migration), out of the schema the models describe, so autogenerate
sees the parent table only. A unique key must hold the partition key: ``(uuid, at)``; a
re-sent item has the same ``at``.

``item`` is JSON, not JSONB, on PostgreSQL too: the text is kept as the hub wrote it
(checked, then stored without conversion). JSONB's conversion was about two thirds of
the database's work per pushed batch, and nothing queries inside an item: what the hub
selects by (compound, times, uuid, seq) has columns of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.models import Base
from registry.types import UTCDateTime

PARTITION_SCHEMA = "hub_partitions"


class HubHead(Base):
    """The last ``hub_seq`` given out (one row, id 1), locked by each ingest until commit."""

    __tablename__ = "hub_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_hub_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class HubEdge(Base):
    """One compound's gate as the hub knows it: the last edge ``seq`` it holds."""

    __tablename__ = "hub_edges"

    compound_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HubPassage(Base):
    """A passage an edge pushed: its feed item (``received_at`` the hub's), and its keys."""

    __tablename__ = "hub_passages"
    __table_args__ = (
        UniqueConstraint("uuid", "at"),
        Index("ix_hub_passages_compound_hub_seq", "compound_id", "hub_seq"),
        {"postgresql_partition_by": "RANGE (at)"},
    )

    hub_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    compound_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    uuid: Mapped[str] = mapped_column(String(36))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replayed: Mapped[bool]
    item: Mapped[dict[str, Any]] = mapped_column(JSON)
