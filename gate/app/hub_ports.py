"""What the hub's use cases need: the store of passages pushed by the compounds' gates.

Reached through the unit of work (``uow.hub``), so an ingest, its cursor and its audit
row commit together. Like every store it validates and audits nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol


@dataclass(frozen=True)
class CompoundCount:
    """How many passages of one compound the hub holds in a window, and how many replayed."""

    compound_id: str
    passages: int
    replayed: int


@dataclass(frozen=True)
class PassageGroup:
    """Alike passages of one compound in one UTC hour: the daily report's unit of count.

    ``refusal`` is the first reason of a denial (None otherwise), ``visitor`` a visitor's
    pseudonym (None otherwise), ``override`` a guard's decision row.
    """

    compound_id: str
    utc_hour: int
    direction: str
    outcome: str
    identity_kind: str
    credential_kind: str
    refusal: str | None
    visitor: str | None
    override: bool
    replayed: bool
    count: int


class HubRow(NamedTuple):
    """One pushed passage as the hub keeps it: its keys and the item (hub's ``received_at``).

    A named tuple, not a dataclass: a push makes 5000 of them, and a frozen dataclass
    took three times as long to make.
    """

    compound_id: str
    seq: int
    uuid: str
    at: datetime  # aware UTC, the passage's time (the partition key)
    replayed: bool
    item: dict[str, Any]


class HubStore(Protocol):
    """Received passages (``hub_passages``) and how far each edge is (``hub_edges``)."""

    def stage(self, rows: Sequence[HubRow], *, received_at: datetime) -> None:
        """Get ``rows`` ready for ``insert``: encoded, and a place for each (a partition).

        Called before ``lock``, so that the lock is held for the insert alone. The month
        partitions (PostgreSQL) are made in short transactions of their own; a month it
        cannot make a partition for goes to the default partition: an insert never fails.
        """
        ...

    def lock(self, compound_id: str, count: int) -> tuple[int, int]:
        """Take the hub's feed lock until commit; reserve ``count`` hub sequence numbers.

        Returns ``(last_seq, base)``: the last edge ``seq`` held for ``compound_id`` (0 if
        none) and the hub_seq after which the reserved numbers start.
        """
        ...

    def insert(self, *, base: int) -> int:
        """Store the staged rows not held yet (by ``uuid``, ``at``) as ``base + 1 ...``; count."""
        ...

    def advance(self, compound_id: str, seq: int) -> None:
        """Record that the hub holds ``compound_id``'s passages up to ``seq`` (never back)."""
        ...

    def last_seq(self, compound_id: str) -> int:
        """The last edge ``seq`` held for ``compound_id``; 0 if none."""
        ...

    def page_after(
        self, hub_seq: int, limit: int, *, compounds: frozenset[str] | None
    ) -> list[tuple[int, bytes]]:
        """Committed rows after ``hub_seq`` in order, as ``(hub_seq, item JSON)``.

        ``compounds`` None: every compound.
        """
        ...

    def counts(
        self, *, since: datetime, until: datetime, compounds: frozenset[str] | None
    ) -> list[CompoundCount]:
        """Passages per compound with ``since <= at < until``, by compound id."""
        ...

    def passages_in(
        self,
        *,
        since: datetime,
        until: datetime,
        compounds: frozenset[str] | None,
        person: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Items with ``since <= at < until`` in time order (then ``hub_seq``), at most ``limit``.

        Each item as stored, with ``hub_seq`` first; ``person`` narrows them to the items
        of that pseudonym; ``compounds`` None: every compound (an empty set: none).
        """
        ...

    def day_groups(
        self, *, since: datetime, until: datetime, compounds: frozenset[str] | None
    ) -> list[PassageGroup]:
        """The passages with ``since <= at < until``, counted in ``PassageGroup`` s."""
        ...
