"""The ports of face passages: the camera picture kept for a passage, and the guard's
"not this person" corrections (``registry.face_snapshots``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from gate.domain.faces import Box, FaceBand


class FacePassageStore(Protocol):
    """Snapshots of face passages (encrypted at rest) and corrections."""

    def keep(
        self,
        image: Any,
        box: Box | None,
        *,
        lane: str,
        band: FaceBand,
        person_ref: str | None,
        taken_at: datetime,
        keep_until: datetime,
    ) -> str:
        """Keep the camera frame (a BGR image) as a JPEG; its ref for the passage row."""
        ...

    def image(self, ref: str) -> bytes | None:
        """The JPEG of a snapshot, None if there is none (deleted by retention)."""
        ...

    def mark_incident(self, refs: Sequence[str]) -> int:
        """Keep these snapshots past their retention (a refused or corrected passage)."""
        ...

    def purge_expired(self, now: datetime) -> int:
        """Delete the snapshots past their ``keep_until`` that no incident holds; how many."""
        ...

    def record_correction(
        self, *, passage_seq: int, person_ref: str, distance: float | None, guard: str, at: datetime
    ) -> int:
        """Store a guard's "not this person"; how many the person has had in all."""
        ...

    def corrections_of(self, person_refs: Sequence[str]) -> dict[str, int]:
        """How many corrections each of these persons has had."""
        ...
