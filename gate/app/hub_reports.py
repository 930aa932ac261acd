"""The daily report across compounds, on the hub: the gate's counts, per compound.

Read from the passages the compounds' gates pushed (``uow.hub.day_groups``, counted in
the database) and counted with the gate's own daily-report tally
(``gate.app.reports.DayTally``): by local hour, by outcome and by credential kind, the
denials by their deciding reason, guard decisions, outsiders and visitors, for each
compound the caller reads and for all of them together. What a gate's report takes from
its registry (who was in quarantine, who is inside, visitors' hosts, masked names) the
hub does not hold; neither does it know which outsider was which (their passages carry
no pseudonym), so ``outsiders.persons`` is None here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from gate.app.actor import Actor
from gate.app.ports import UnitOfWorkFactory
from gate.app.report_values import CrowdCounts, HourCounts, OutcomeCounts
from gate.app.reports import DayTally, report_day
from gate.domain.model import Outcome
from gate.domain.status import LOCAL_TZ, end_of_local_day, start_of_local_day


@dataclass(frozen=True)
class CompoundDay:
    """One compound's day (``compound_id`` None: every compound read, together)."""

    compound_id: str | None
    hours: tuple[HourCounts, ...]  # always 24, local hour 0 first
    outcomes: tuple[OutcomeCounts, ...]  # allow, review, deny, always all three
    credentials: tuple[tuple[str, int, int], ...]  # (kind, in, out)
    refusals: tuple[tuple[str, int], ...]  # (deciding reason, denials), most first
    guard_allow: int
    guard_deny: int
    outsiders: CrowdCounts  # persons: not known on the hub
    visitors: CrowdCounts
    replayed: int

    @property
    def totals(self) -> OutcomeCounts:
        """All the gates' decisions of the day."""
        return OutcomeCounts(
            "",
            inbound=sum(row.inbound for row in self.outcomes),
            outbound=sum(row.outbound for row in self.outcomes),
        )


@dataclass(frozen=True)
class HubDailyReport:
    """The day (00:00-24:00 Asia/Shanghai) of each compound with passages, and all together."""

    day: date
    start: datetime
    end: datetime
    compounds: tuple[CompoundDay, ...]  # by compound id; one without passages is absent
    together: CompoundDay


def _day(compound: str | None, tally: DayTally, replayed: int) -> CompoundDay:
    return CompoundDay(
        compound_id=compound,
        hours=tally.hour_counts(),
        outcomes=tally.outcome_counts(),
        credentials=tally.credential_counts(),
        refusals=tally.refusal_counts(),
        guard_allow=tally.guard[Outcome.ALLOW.value],
        guard_deny=tally.guard[Outcome.DENY.value],
        outsiders=tally.outsider_counts(),
        visitors=tally.visitor_counts(),
        replayed=replayed,
    )


def hub_daily_report(
    day: date | str,
    *,
    compounds: frozenset[str] | None,
    actor: Actor,
    units: UnitOfWorkFactory,
) -> HubDailyReport:
    """The report of the local day ``day`` for ``compounds`` (None: all; ``ActionRefused``)."""
    checked = report_day(day, now=actor.at)
    start, end = start_of_local_day(checked), end_of_local_day(checked)
    with units(actor) as uow:
        groups = uow.hub.day_groups(since=start, until=end, compounds=compounds)
    # The local hour of each UTC hour of the day (zones that differ from UTC by whole hours).
    local_hour = {
        moment.astimezone(UTC).hour: moment.astimezone(LOCAL_TZ).hour
        for moment in (start + timedelta(hours=h) for h in range(24))
    }
    tallies: dict[str | None, DayTally] = {None: DayTally()}
    replayed: dict[str | None, int] = {None: 0}
    for group in groups:
        if group.direction not in ("in", "out"):
            continue  # no edge sends another; counted by direction, it has no place
        for key in (group.compound_id, None):
            tally = tallies.get(key) or tallies.setdefault(key, DayTally())
            replayed[key] = replayed.get(key, 0) + (group.count if group.replayed else 0)
            if group.override:
                tally.guard_decision(group.outcome, group.count)
                continue
            tally.passage(
                hour=local_hour[group.utc_hour],
                direction=group.direction,
                outcome=group.outcome,
                identity_kind=group.identity_kind,
                credential_kind=group.credential_kind,
                reason=group.refusal,
                who=group.visitor,
                count=group.count,
            )
    together = tallies.pop(None)
    return HubDailyReport(
        day=checked,
        start=start,
        end=end,
        compounds=tuple(
            _day(compound, tallies[compound], replayed[compound])
            for compound in sorted(c for c in tallies if c is not None)
        ),
        together=_day(None, together, replayed[None]),
    )
