"""Status rows as the domain reads them (the one conversion from ``StatusRecord``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from gate.domain.people import QUARANTINE_STATUSES
from gate.domain.status import StatusPeriod
from registry.models import StatusRecord

# The statuses a SQL ``IN`` tests for quarantine, in a fixed order.
QUARANTINE_IN = sorted(QUARANTINE_STATUSES)


def status_periods(records: Iterable[StatusRecord]) -> list[StatusPeriod]:
    """Status rows as ``StatusPeriod`` values (for ``current_status`` and the snapshot)."""
    return [StatusPeriod(record.status, record.starts_at, record.ends_at) for record in records]


def quarantined_at(moment: datetime) -> Any:
    """Ids of persons under home or centralized quarantine at ``moment`` (a subquery)."""
    return (
        select(StatusRecord.person_id)
        .where(
            StatusRecord.status.in_(QUARANTINE_IN),
            StatusRecord.starts_at <= moment,
            (StatusRecord.ends_at.is_(None)) | (StatusRecord.ends_at > moment),
        )
        .scalar_subquery()
    )
