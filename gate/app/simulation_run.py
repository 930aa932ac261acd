"""Playing a planned day (``gate.app.simulation``) through the real passage pipeline.

First the day is set up as the office and the guards would have it, through the use
cases: one audit row saying a simulation ran (and read the residents' cards), the
visits registered (``register_visitor``, each at its own simulated moment) and the QR
passes issued (``issue_pass``, valid for the day). Then every planned passage goes
through ``PassagePipeline.process`` with the simulated clock set to its moment, so the
log rows carry the simulated times; a pass shows its text at that moment. A passage is
played only if the person is where it starts (a refused exit keeps them in, a reviewed
entry keeps them out: nobody overrides here); the others are counted as skipped.

``on_passage`` is called the moment ``process`` returns, when the row is durable.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gate.app.actor import Actor
from gate.app.pass_ports import PassSigner, SignedPass
from gate.app.pipeline import PassagePipeline, PassageResult, SnapshotProvider
from gate.app.ports import UnitOfWorkFactory
from gate.app.qr_passes import IssuePass, issue_pass
from gate.app.simulation import DayPlan, PlannedPassage
from gate.app.visitors import RegisterVisitor, register_visitor
from gate.domain.model import Credential, CredentialKind, Direction, Presence
from gate.domain.passes import PassKind
from gate.domain.snapshot import RegistrySnapshot

PASS_VALIDITY = timedelta(hours=24)


class SimulatedClock:
    """The clock the simulated gate reads; the runner moves it to each passage's moment."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class DayTally:
    """What the day came to."""

    passages: int = 0  # logged
    unlogged: int = 0  # refused because the log refused the write
    skipped: int = 0  # not played: the person was not where the passage starts
    walked_through: int = 0  # moved behind someone else, no passage
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    by_lane: Counter[str] = field(default_factory=Counter)
    by_credential: Counter[str] = field(default_factory=Counter)
    by_story: Counter[str] = field(default_factory=Counter)
    quarantined_exits: Counter[str] = field(default_factory=Counter)  # outcome -> count
    first_seq: int | None = None
    last_seq: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The counts as plain JSON values."""
        return {
            "passages": self.passages,
            "unlogged": self.unlogged,
            "skipped": self.skipped,
            "walked_through": self.walked_through,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "by_outcome": dict(self.by_outcome.most_common()),
            "by_reason": dict(self.by_reason.most_common()),
            "by_lane": dict(self.by_lane.most_common()),
            "by_credential": dict(self.by_credential.most_common()),
            "by_story": dict(self.by_story.most_common()),
            "quarantined_exits": dict(self.quarantined_exits.most_common()),
        }


def simulate_day(
    plan: DayPlan,
    *,
    actor: Actor,
    units: UnitOfWorkFactory,
    signer: PassSigner,
    pipeline: PassagePipeline,
    snapshots: SnapshotProvider,
    clock: SimulatedClock,
    on_passage: Callable[[PlannedPassage, PassageResult], None] | None = None,
) -> DayTally:
    """Set the day up, then play every planned passage; see the module docstring."""
    with units(actor) as uow:
        uow.audit(
            "simulate.day",
            f"day:{plan.day.isoformat()}",
            {
                "seed": plan.seed,
                "scale": plan.scale,
                "epidemic": plan.epidemic,
                "planned_passages": len(plan.passages),
                "cards_read": True,  # the residents' numbers were decrypted to play their cards
            },
        )
        uow.commit()
    for visit in plan.visits:
        register_visitor(
            RegisterVisitor(
                visit.name,
                visit.card.doc_type,
                visit.card.number,
                visit.host,
                visit.reason,
                hours=visit.hours,
            ),
            actor=dataclasses.replace(actor, at=visit.starts_at),
            units=units,
        )
    passes: dict[str, SignedPass] = {}
    at_start = dataclasses.replace(actor, at=plan.starts_at)
    for planned in plan.passes:
        issued = issue_pass(
            IssuePass(
                PassKind.RESIDENT,
                planned.person_ref,
                valid_for=PASS_VALIDITY,
                note="simulated day",
                rotating=planned.rotating,
            ),
            actor=at_start,
            units=units,
            signer=signer,
        )
        passes[planned.person_ref] = issued.signed
    clock.now = plan.starts_at
    pipeline.reload_snapshot()
    return _play(plan, passes, pipeline, snapshots, clock, on_passage)


def _play(
    plan: DayPlan,
    passes: dict[str, SignedPass],
    pipeline: PassagePipeline,
    snapshots: SnapshotProvider,
    clock: SimulatedClock,
    on_passage: Callable[[PlannedPassage, PassageResult], None] | None,
) -> DayTally:
    tally = DayTally()
    overridden: RegistrySnapshot | None = None
    where: dict[str, Presence] = dict(snapshots.current().presence_now())
    for planned in plan.passages:
        key = planned.who
        if key is not None:
            now_at = where.get(key, Presence.UNKNOWN)
            if now_at is (
                Presence.OUTSIDE if planned.direction is Direction.OUT else Presence.INSIDE
            ):
                tally.skipped += 1
                continue
        if not planned.swipe:
            assert key is not None
            where[key] = _after(planned.direction)
            tally.walked_through += 1
            continue
        clock.now = planned.at
        if plan.rules is not None and snapshots.current() is not overridden:
            # The simulation's rules, in memory only; re-applied if the snapshot reloads.
            overridden = snapshots.current()
            overridden.rules = plan.rules
        result = pipeline.process(
            _credential(planned, passes, clock.now),
            lane=planned.lane,
            direction=planned.direction,
            temperature=planned.temperature,
        )
        if key is not None:
            # Let through: they moved. Refused or sent to the guard: they stay where they were.
            moved = result.decision.opens_barrier
            where[key] = _after(planned.direction if moved else _opposite(planned.direction))
        _count(tally, plan, planned, result)
        if on_passage is not None:
            on_passage(planned, result)
    return tally


def _after(direction: Direction) -> Presence:
    return Presence.INSIDE if direction is Direction.IN else Presence.OUTSIDE


def _opposite(direction: Direction) -> Direction:
    return Direction.OUT if direction is Direction.IN else Direction.IN


def _credential(
    planned: PlannedPassage, passes: dict[str, SignedPass], now: datetime
) -> Credential:
    if planned.via is CredentialKind.QR_PASS and planned.who in passes:
        return Credential(CredentialKind.QR_PASS, code=passes[planned.who].text_at(now))
    return Credential(CredentialKind.ID_CARD, document=planned.card)


def _count(tally: DayTally, plan: DayPlan, planned: PlannedPassage, result: PassageResult) -> None:
    outcome = result.decision.outcome.value
    if result.record is None:
        tally.unlogged += 1
    else:
        tally.passages += 1
        tally.first_seq = tally.first_seq or result.record.seq
        tally.last_seq = result.record.seq
    tally.by_outcome[outcome] += 1
    tally.by_reason.update(result.decision.reason_codes)
    tally.by_lane[planned.lane] += 1
    tally.by_credential[planned.via.value] += 1
    tally.by_story[planned.story] += 1
    if planned.who in plan.quarantined and planned.direction is Direction.OUT:
        tally.quarantined_exits[outcome] += 1
