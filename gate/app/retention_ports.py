"""What the retention job needs: the deletes per data class and the log's checkpoint signer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class PassageBoundary:
    """A purge of the log: rows ``after + 1 .. purged_to`` go, row ``purged_to`` hashed to
    ``row_hash`` (the next row's ``prev_hash``: verification starts from it)."""

    purged_to: int
    row_hash: str
    after: int  # the checkpoint before this purge (0: never purged)


class RetentionStore(Protocol):
    """Retention's deletes in the actor's transaction (``registry.retention_store``)."""

    def face_snapshots(self, *, now: datetime) -> int:
        """Delete face snapshots past their ``keep_until`` (never an incident's); how many."""
        ...

    def orphan_templates(self) -> int:
        """Delete templates under a withdrawn consent or of a person moved out; how many."""
        ...

    def visitors(self, *, ended_before: datetime) -> int:
        """Delete visits whose window ended before ``ended_before``; how many."""
        ...

    def epidemic(self, *, ended_at: datetime) -> dict[str, int]:
        """Delete the emergency's records made before ``ended_at``; how many of each."""
        ...

    def passage_boundary(self, *, before: datetime) -> PassageBoundary | None:
        """How far a purge of passages older than ``before`` may go; None: not at all."""
        ...

    def purge_passages(self, boundary: PassageBoundary, *, at: datetime) -> int:
        """Delete the rows and record the checkpoint in the log's head; how many rows."""
        ...


class LogCheckpoints(Protocol):
    """Signs the purge's checkpoint outside the database (``registry.log_anchors.Anchorer``)."""

    def anchor_purge(self, now: datetime, *, purged_to: int, purged_hash: str) -> object:
        """Sign it (before the rows go); ``RegistryError`` if the log is shorter than its
        latest anchor (a cut: nothing is purged over it)."""
        ...
