"""The retention job: personal data deleted per data class when its period is over.

One use case for every front end (the service's upkeep every few hours, ``gate retention
run [--dry-run]``). Each class is its own transaction with its own audit row
(``retention.purge``, target ``retention:<class>``, the count and the cut), written only
when something went; a dry run makes the same deletes, counts them and rolls them back.

- ``face_snapshots``: past their ``keep_until`` (unknown faces 72 h, known ones
  ``snapshot_days``, set when taken); a snapshot attached to an incident stays.
- ``face_templates``: any left under a withdrawn consent or of a person moved out (those
  use cases delete them at once; this sweeps what a restore or an import left behind).
- ``passages``: older than ``passage_days``, cut from the log's start only. The
  checkpoint (the last purged row and its hash) is signed into the anchor file *before*
  the rows go and kept in the log's head, so ``gate log verify`` checks the rest from it.
- ``visitors``: ``visitor_days`` after their window ended (a request never confirmed:
  after it was registered).
- ``epidemic``: once ``emergency_ended`` has passed, every quarantine (non-normal)
  status, daily-round temperature and household need recorded before it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gate.app.actor import Actor
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.app.retention_ports import LogCheckpoints

CLASSES = ("face_snapshots", "face_templates", "passages", "visitors", "epidemic")


@dataclass(frozen=True)
class RetentionPolicy:
    """The periods, from ``[retention]`` (``gate.runtime.settings.RetentionSettings``)."""

    passage_days: float = 365
    visitor_days: float = 30
    emergency_ended: datetime | None = None  # timezone-aware; None: no emergency data goes


@dataclass(frozen=True)
class ClassPurge:
    """What one data class lost (or would lose, in a dry run)."""

    name: str
    deleted: int
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RetentionReport:
    """Every class's count, in ``CLASSES`` order."""

    classes: Sequence[ClassPurge]
    dry_run: bool

    def count(self, name: str) -> int:
        """The count of one class."""
        return next(entry.deleted for entry in self.classes if entry.name == name)


def run_retention(
    policy: RetentionPolicy,
    *,
    actor: Actor,
    units: UnitOfWorkFactory,
    checkpoints: LogCheckpoints,
    dry_run: bool = False,
) -> RetentionReport:
    """Delete what each class's period allows (audited per class); the counts."""
    now = actor.at
    done = [
        _purge(units, actor, "face_snapshots", dry_run, lambda uow: _snapshots(uow, now)),
        _purge(units, actor, "face_templates", dry_run, _templates),
        _passages(policy, actor=actor, units=units, checkpoints=checkpoints, dry_run=dry_run),
        _purge(
            units,
            actor,
            "visitors",
            dry_run,
            lambda uow: _visitors(uow, now - timedelta(days=policy.visitor_days)),
        ),
        _epidemic(policy, actor=actor, units=units, dry_run=dry_run),
    ]
    return RetentionReport(done, dry_run)


def _snapshots(uow: UnitOfWork, now: datetime) -> ClassPurge:
    return ClassPurge("face_snapshots", uow.retention.face_snapshots(now=now))


def _templates(uow: UnitOfWork) -> ClassPurge:
    return ClassPurge("face_templates", uow.retention.orphan_templates())


def _visitors(uow: UnitOfWork, cut: datetime) -> ClassPurge:
    gone = uow.retention.visitors(ended_before=cut)
    if gone:
        uow.registry_changed()  # a confirmed visit is in the gate's snapshot
    return ClassPurge("visitors", gone, {"ended_before": cut.isoformat()})


def _purge(
    units: UnitOfWorkFactory,
    actor: Actor,
    name: str,
    dry_run: bool,
    delete: Callable[[UnitOfWork], ClassPurge],
) -> ClassPurge:
    with units(actor) as uow:
        purge: ClassPurge = delete(uow)
        if purge.deleted and not dry_run:
            uow.audit(
                "retention.purge", f"retention:{name}", {"deleted": purge.deleted, **purge.detail}
            )
            uow.commit()
    return purge


def _passages(
    policy: RetentionPolicy,
    *,
    actor: Actor,
    units: UnitOfWorkFactory,
    checkpoints: LogCheckpoints,
    dry_run: bool,
) -> ClassPurge:
    cut = actor.at - timedelta(days=policy.passage_days)
    with units(actor) as uow:
        boundary = uow.retention.passage_boundary(before=cut)
        if boundary is None:
            return ClassPurge("passages", 0)
        detail = {"before": cut.isoformat(), "purged_to": boundary.purged_to}
        if dry_run:
            return ClassPurge("passages", boundary.purged_to - boundary.after, detail)
        # Signed first: a crash after it leaves rows a checkpoint says may go (the next run
        # signs again), never rows gone that no signed checkpoint accounts for.
        checkpoints.anchor_purge(
            actor.at, purged_to=boundary.purged_to, purged_hash=boundary.row_hash
        )
        gone = uow.retention.purge_passages(boundary, at=actor.at)
        if gone:
            uow.audit("retention.purge", "retention:passages", {"deleted": gone, **detail})
            uow.commit()
    return ClassPurge("passages", gone, detail)


def _epidemic(
    policy: RetentionPolicy, *, actor: Actor, units: UnitOfWorkFactory, dry_run: bool
) -> ClassPurge:
    ended = policy.emergency_ended
    if ended is None or actor.at < ended:
        return ClassPurge("epidemic", 0)
    with units(actor) as uow:
        counts = uow.retention.epidemic(ended_at=ended)
        gone = sum(counts.values())
        if gone and not dry_run:
            uow.audit(
                "retention.purge",
                "retention:epidemic",
                {"deleted": gone, "emergency_ended": ended.isoformat(), **counts},
            )
            uow.registry_changed()  # quarantine statuses are in the gate's snapshot
            uow.commit()
    return ClassPurge("epidemic", gone, counts)
