"""What the shift report and the audit log hand the screens: plain values, never a number.

The shift report counts the gate's own decisions (override rows are the guards' decisions
and are listed on their own), lists every guard decision with the passage it overrides,
every alert with how and by whom it was handled, and the exits of persons who were in
quarantine at that moment; names come masked. ``registry/reports.py`` fills them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gate.domain.model import Outcome, Reason
from gate.domain.people import HealthStatus


@dataclass(frozen=True)
class Who:
    """Whom a passage was about, as screens may show it (masked name, home)."""

    identity_kind: str
    name: str | None = None
    home: str | None = None


@dataclass(frozen=True)
class LaneCounts:
    """The gate's decisions at one lane in one direction."""

    lane: str
    direction: str
    allow: int = 0
    review: int = 0
    deny: int = 0

    @property
    def total(self) -> int:
        """All decisions counted here."""
        return self.allow + self.review + self.deny


@dataclass(frozen=True)
class GuardDecision:
    """An override row: a guard's decision on a review or denial."""

    seq: int
    at: datetime
    guard: str
    outcome: str
    code: str
    text: str


@dataclass(frozen=True)
class AlertLine:
    """A review or denial of the gate and how it was handled (``handling`` None: not yet)."""

    seq: int
    at: datetime
    lane: str
    direction: str
    outcome: str
    alert: str
    reasons: tuple[Reason, ...]
    who: Who
    handling: GuardDecision | None


@dataclass(frozen=True)
class OverrideLine:
    """A guard decision in the shift, with the passage it overrides."""

    decision: GuardDecision
    lane: str
    direction: str
    who: Who
    original_seq: int
    original_at: datetime | None
    original_outcome: str
    original_reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class QuarantineExit:
    """An allowed exit of a person in quarantine at that moment, and what let them out."""

    seq: int
    at: datetime
    lane: str
    who: Who
    status: HealthStatus
    how: str  # "override", "exemption" or "rule" (a rule that only flags)
    guard: str | None
    code: str | None
    text: str | None
    original_seq: int | None


@dataclass(frozen=True)
class ShiftReport:
    """Everything the shift report page and its XLSX show."""

    start: datetime
    end: datetime
    lanes: tuple[LaneCounts, ...]
    overrides: tuple[OverrideLine, ...]
    alerts: tuple[AlertLine, ...]
    quarantine_exits: tuple[QuarantineExit, ...]

    @property
    def totals(self) -> LaneCounts:
        """The gate's decisions over all lanes."""
        return LaneCounts(
            "",
            "",
            allow=sum(lane.allow for lane in self.lanes),
            review=sum(lane.review for lane in self.lanes),
            deny=sum(lane.deny for lane in self.lanes),
        )

    @property
    def unhandled(self) -> int:
        """Alerts no guard has decided."""
        return sum(1 for alert in self.alerts if alert.handling is None)

    def guard_decisions(self, outcome: Outcome) -> int:
        """Guard decisions in the shift with ``outcome``."""
        return sum(1 for line in self.overrides if line.decision.outcome == outcome.value)


@dataclass(frozen=True)
class AuditFilter:
    """Which audit events to show: action prefix, exact actor, ``[start, end)``."""

    action: str = ""
    actor: str = ""
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class AuditLine:
    """One audit event as read (a copy: the log is never edited through it)."""

    id: int
    at: datetime
    actor: str
    origin: str
    action: str
    target: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class AuditPage:
    """A page of audit events, newest first, and the cursors to the pages around it."""

    events: tuple[AuditLine, ...]
    newer_than: int | None  # pass as ``after`` for the newer page
    older_than: int | None  # pass as ``before`` for the older page
