"""What the shift report and the audit log hand the screens: plain values, never a number.

The shift report counts the gate's own decisions (override rows are the guards' decisions
and are listed on their own), lists every guard decision with the passage it overrides,
every alert with how and by whom it was handled, and the exits of persons who were in
quarantine at that moment; names come masked. ``registry/reports.py`` fills them.

The daily report (``DailyReport``) covers one local day, 00:00-24:00 Asia/Shanghai: the
gate's decisions by hour and by outcome (override rows are not passages: they are listed
as guard decisions), outsiders and visitors, every person in quarantine that day with
each of their attempts at the gate, and who was inside at the end of the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
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
class TimeBucket:
    """The gate's decisions in ``[start, end)`` (an hour, or a day of a long window).

    ``inbound``/``outbound`` map each outcome (allow, review, deny: always all three) to
    its count; override rows are not passages and are not counted.
    """

    start: datetime
    end: datetime
    inbound: Mapping[str, int]
    outbound: Mapping[str, int]

    @property
    def total_in(self) -> int:
        """Every decision on a way in."""
        return sum(self.inbound.values())

    @property
    def total_out(self) -> int:
        """Every decision on a way out."""
        return sum(self.outbound.values())


@dataclass(frozen=True)
class OccupancyPoint:
    """Registered persons living here inside, outside, unknown at the moment ``at``."""

    at: datetime
    inside: int
    outside: int
    unknown: int


@dataclass(frozen=True)
class Timeline:
    """A report's passages bucket by bucket and its occupancy at each bucket's edge.

    ``occupancy`` has one point more than ``buckets``: the window's start, then each
    bucket's end. Charts and the tables by hour read this same value.
    """

    buckets: tuple[TimeBucket, ...] = ()
    occupancy: tuple[OccupancyPoint, ...] = ()

    @property
    def hourly(self) -> bool:
        """Buckets of an hour (else of a day)."""
        return not self.buckets or (self.buckets[0].end - self.buckets[0].start).days == 0


@dataclass(frozen=True)
class ShiftReport:
    """Everything the shift report page and its XLSX show."""

    start: datetime
    end: datetime
    lanes: tuple[LaneCounts, ...]
    overrides: tuple[OverrideLine, ...]
    alerts: tuple[AlertLine, ...]
    quarantine_exits: tuple[QuarantineExit, ...]
    timeline: Timeline = field(default_factory=Timeline)

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


class _BothDirections:
    """Counts kept by direction; ``total`` is both (the dataclasses below hold the fields)."""

    inbound: int
    outbound: int

    @property
    def total(self) -> int:
        """Both directions."""
        return self.inbound + self.outbound


@dataclass(frozen=True)
class HourCounts(_BothDirections):
    """The gate's decisions in one local hour (``hour`` 0-23), by direction."""

    hour: int
    inbound: int = 0
    outbound: int = 0


@dataclass(frozen=True)
class OutcomeCounts(_BothDirections):
    """The gate's decisions with one outcome, by direction."""

    outcome: str
    inbound: int = 0
    outbound: int = 0


@dataclass(frozen=True)
class CrowdCounts(_BothDirections):
    """Passages of outsiders (or visitors) by direction, and how many different people."""

    inbound: int = 0
    outbound: int = 0
    persons: int = 0  # outsiders: distinct document hashes; visitors: distinct visits


@dataclass(frozen=True)
class HostVisitors:
    """The visitors of one host flat who passed the gate that day."""

    home: str | None  # None: the visit names no host household
    visitors: int
    inbound: int
    outbound: int


@dataclass(frozen=True)
class Attempt:
    """A quarantined person at the gate: the gate's decision and a guard's, if any."""

    seq: int
    at: datetime
    lane: str
    direction: str
    outcome: str
    reasons: tuple[Reason, ...]
    handling: GuardDecision | None

    @property
    def final(self) -> str:
        """What happened in the end: the guard's decision, else the gate's."""
        return self.handling.outcome if self.handling else self.outcome


@dataclass(frozen=True)
class QuarantinedDay:
    """A person in quarantine during the day and each of their attempts (maybe none)."""

    who: Who
    status: HealthStatus
    since: datetime
    until: datetime | None
    attempts: tuple[Attempt, ...]

    @property
    def let_out(self) -> int:
        """Attempts to leave that ended with the person let out."""
        return sum(1 for a in self.attempts if a.direction == "out" and a.final == "allow")


@dataclass(frozen=True)
class BuildingPresence:
    """Registered persons of one building inside, outside, unknown at the day's end."""

    building: str
    inside: int = 0
    outside: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        """Everybody of the building."""
        return self.inside + self.outside + self.unknown


@dataclass(frozen=True)
class DayOccupancy:
    """Presence at the end of the day, as the terminal counts it from the log.

    A registered person (living in the compound then) is inside or outside as their last
    passage that let them through before the day's end says, unknown without one.
    """

    inside: int
    outside: int
    unknown: int
    buildings: tuple[BuildingPresence, ...]
    quarantined_outside: int  # should be 0

    @property
    def total(self) -> int:
        """Everybody counted."""
        return self.inside + self.outside + self.unknown


@dataclass(frozen=True)
class DailyReport:
    """Everything the daily report page, its XLSX and ``/api/v1/reports/daily`` show."""

    day: date
    start: datetime
    end: datetime
    hours: tuple[HourCounts, ...]  # always 24, hour 0 first
    outcomes: tuple[OutcomeCounts, ...]  # allow, review, deny, always all three
    outsiders: CrowdCounts
    visitors: CrowdCounts
    visitors_by_host: tuple[HostVisitors, ...]
    quarantined: tuple[QuarantinedDay, ...]
    overrides: tuple[OverrideLine, ...]
    occupancy: DayOccupancy
    timeline: Timeline = field(default_factory=Timeline)

    @property
    def totals(self) -> OutcomeCounts:
        """All the gate's decisions of the day."""
        return OutcomeCounts(
            "",
            inbound=sum(row.inbound for row in self.outcomes),
            outbound=sum(row.outbound for row in self.outcomes),
        )

    def guard_decisions(self, outcome: Outcome) -> int:
        """Guard decisions of the day with ``outcome``."""
        return sum(1 for line in self.overrides if line.decision.outcome == outcome.value)
