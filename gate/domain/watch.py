"""The district's watch list at the gate: documents under control that nobody here holds.

A control list names people by document; a person the registry does not know is kept as
a watch entry under the document's keyed hash (the same hash the gate makes of every card
it reads). When that document is first seen at the gate, as an outsider or a visitor, the
passage is decided with the listed status: under quarantine it is refused, otherwise it
goes to the guard, and either way it is an alarm whose first reason is ``district_watch``
with the list's reference. Pure: the time comes in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from gate.domain.model import (
    OUTCOME_SEVERITY,
    AlertLevel,
    Decision,
    Direction,
    Outcome,
    Reason,
)
from gate.domain.people import QUARANTINE_STATUSES, HealthStatus
from gate.domain.status import SEVERITY

WATCH_REASON = "district_watch"


@dataclass(frozen=True)
class WatchFacts:
    """One watch entry: the listed status, its period and the list's reference."""

    reference: str
    status: HealthStatus
    starts_at: datetime
    ends_at: datetime | None = None

    def active_at(self, moment: datetime) -> bool:
        """True if ``moment`` falls inside the listed period."""
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


def governing_watch(entries: Iterable[WatchFacts], now: datetime) -> WatchFacts | None:
    """The entry in force at ``now``, most restrictive first, then latest start."""
    active = [entry for entry in entries if entry.active_at(now)]
    if not active:
        return None
    return max(active, key=lambda entry: (SEVERITY[entry.status], entry.starts_at))


def with_watch(decision: Decision, watch: WatchFacts, direction: Direction) -> Decision:
    """``decision`` made at least as strict as the listed status asks, as an alarm."""
    floor = Outcome.DENY if watch.status in QUARANTINE_STATUSES else Outcome.REVIEW
    outcome = max(decision.outcome, floor, key=OUTCOME_SEVERITY.__getitem__)
    reason = Reason(
        WATCH_REASON,
        {
            "status": watch.status.value,
            "reference": watch.reference,
            "until": watch.ends_at.isoformat() if watch.ends_at else None,
            "direction": direction.value,
        },
    )
    return Decision(
        outcome=outcome,
        reasons=(reason, *decision.reasons),
        alert=AlertLevel.ALARM,
        rule_ids=decision.rule_ids,
        opens_barrier=outcome is Outcome.ALLOW,
    )
