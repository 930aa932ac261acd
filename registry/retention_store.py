"""``gate.app.retention_ports.RetentionStore`` on the registry database.

Every query that deletes personal data for retention, each once, in the actor's
transaction (a dry run rolls it back). The passage log is cut only from its start, and
only below the slowest events-out relay's cursor (``delivery_cursors``): rows are never
deleted before every receiver has them. The newest row is always kept (the chain's head).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, func, or_, select, update
from sqlalchemy.orm import Session

from gate.app.retention_ports import PassageBoundary
from gate.domain.people import HealthStatus
from registry.models import (
    DeliveryCursor,
    FaceConsent,
    FaceSnapshot,
    FaceTemplate,
    HealthCheck,
    HouseholdNeed,
    Passage,
    PassageChain,
    Person,
    StatusRecord,
    Visitor,
)


class SqlRetentionStore:
    """Retention's deletes in one unit of work's session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _deleted(self, statement: Delete) -> int:
        result = cast(CursorResult[Any], self._session.execute(statement))
        return int(result.rowcount or 0)

    def face_snapshots(self, *, now: datetime) -> int:
        """Delete face snapshots past their ``keep_until`` (never an incident's)."""
        return self._deleted(
            delete(FaceSnapshot).where(
                FaceSnapshot.keep_until.is_not(None),
                FaceSnapshot.keep_until < now,
                FaceSnapshot.incident.is_(False),
            )
        )

    def orphan_templates(self) -> int:
        """Delete templates whose consent was withdrawn or whose person moved out.

        Withdrawal and move-out delete them in their own transaction; this finds any a
        restore, an import or a crash left behind.
        """
        withdrawn = select(FaceConsent.id).where(FaceConsent.withdrawn_at.is_not(None))
        moved_out = select(Person.id).where(Person.moved_out_at.is_not(None))
        return self._deleted(
            delete(FaceTemplate).where(
                or_(FaceTemplate.consent_id.in_(withdrawn), FaceTemplate.person_id.in_(moved_out))
            )
        )

    def visitors(self, *, ended_before: datetime) -> int:
        """Delete visits whose window ended (or, never confirmed, were registered) before."""
        return self._deleted(
            delete(Visitor).where(
                or_(
                    (Visitor.status == "confirmed") & (Visitor.ends_at < ended_before),
                    (Visitor.status != "confirmed") & (Visitor.registered_at < ended_before),
                )
            )
        )

    def epidemic(self, *, ended_at: datetime) -> dict[str, int]:
        """Delete the emergency's records made before ``ended_at``: quarantine and other
        non-normal statuses, daily-round temperatures, household needs."""
        return {
            "statuses": self._deleted(
                delete(StatusRecord).where(
                    StatusRecord.status != HealthStatus.NORMAL,
                    StatusRecord.starts_at < ended_at,
                )
            ),
            "temperatures": self._deleted(
                delete(HealthCheck).where(HealthCheck.recorded_at < ended_at)
            ),
            "needs": self._deleted(
                delete(HouseholdNeed).where(HouseholdNeed.recorded_at < ended_at)
            ),
        }

    def passage_boundary(self, *, before: datetime) -> PassageBoundary | None:
        """The last row a purge of passages older than ``before`` may delete, and its hash;
        None if nothing more may go."""
        chain = self._session.execute(
            select(PassageChain.last_seq, PassageChain.purged_to).where(PassageChain.id == 1)
        ).one()
        purged_to = int(chain.purged_to or 0)
        first_kept = self._session.scalar(
            select(func.min(Passage.seq)).where(Passage.seq > purged_to, Passage.at >= before)
        )
        # Rows are cut from the start only: the first row young enough stops the cut, even
        # if older ones (a clock set back) follow it.
        through = int(chain.last_seq) - 1 if first_kept is None else int(first_kept) - 1
        through = min(through, int(chain.last_seq) - 1)  # the head row stays
        slowest = self._session.scalar(select(func.min(DeliveryCursor.last_seq)))
        if slowest is not None:
            through = min(through, int(slowest))
        if through <= purged_to:
            return None
        row_hash = self._session.scalar(select(Passage.row_hash).where(Passage.seq == through))
        if row_hash is None:
            return None  # a gap: `gate log verify` names it; nothing is purged over it
        return PassageBoundary(purged_to=through, row_hash=str(row_hash), after=purged_to)

    def purge_passages(self, boundary: PassageBoundary, *, at: datetime) -> int:
        """Delete rows ``after + 1 .. purged_to`` and record the checkpoint in the head."""
        moved = cast(
            CursorResult[Any],
            self._session.execute(
                update(PassageChain)
                .where(PassageChain.id == 1, PassageChain.purged_to == boundary.after)
                .values(purged_to=boundary.purged_to, purged_hash=boundary.row_hash, purged_at=at)
            ),
        ).rowcount
        if not moved:
            return 0  # another purge moved the checkpoint meanwhile
        return self._deleted(
            delete(Passage).where(Passage.seq > boundary.after, Passage.seq <= boundary.purged_to)
        )
