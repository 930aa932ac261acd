"""Registering a visitor, from the terminal (often from the swipe just refused) and the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from gate.app.actor import Actor
from gate.app.passages import OverridePassage, override_passage
from gate.app.pipeline import PassagePipeline
from gate.app.ports import UnitOfWorkFactory
from gate.app.refusals import audit_refusal
from gate.app.views import VisitorRef
from gate.domain.documents import DocumentType, validate
from gate.domain.errors import ActionRefused, GateError, NotFound, OverrideRefused
from gate.domain.model import Outcome

MAX_NAME = 100
MAX_REASON = 200
VISIT_HOURS = (0.25, 24.0 * 7)
_MARKUP = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class RegisterVisitor:
    """A visit starting now; ``host`` is the flat visited as ``building-unit-room``."""

    name: str
    doc_type: DocumentType
    number: str
    host: str
    reason: str
    hours: float = 4.0
    admit_seq: int | None = None  # the refused swipe to admit once registered


@dataclass(frozen=True)
class VisitorRegistered:
    """The visit, and the override row that admitted the waiting swipe (if any)."""

    visitor: VisitorRef
    admitted_seq: int | None


def register_visitor(
    command: RegisterVisitor,
    *,
    actor: Actor,
    units: UnitOfWorkFactory,
    pipeline: PassagePipeline | None = None,
) -> VisitorRegistered:
    """Record the visit (audited; gates reload), then admit ``admit_seq`` if given.

    Refusals (``ActionRefused``, ``DocumentInvalid``, ``NotFound`` host) are audited.
    """
    try:
        visitor = _register(command, actor=actor, units=units)
    except GateError as refused:
        audit_refusal(units, actor, "visitor", refused)
        raise
    admitted = None
    if pipeline is not None:
        pipeline.reload_snapshot()
        if command.admit_seq is not None:
            try:
                result = override_passage(
                    OverridePassage(
                        command.admit_seq, Outcome.ALLOW, "visitor_registered", command.reason
                    ),
                    actor=actor,
                    units=units,
                    pipeline=pipeline,
                )
                admitted = result.record.seq if result.record else None
            except (OverrideRefused, NotFound):
                admitted = None  # already decided by another guard: the visit stands
    return VisitorRegistered(visitor, admitted)


def _register(command: RegisterVisitor, *, actor: Actor, units: UnitOfWorkFactory) -> VisitorRef:
    name, reason, host_labels = checked_visit(
        command.name, command.reason, command.hours, command.host
    )
    info = validate(command.doc_type, command.number, today=None)
    with units(actor) as uow:
        host = uow.households.find(
            building=host_labels[0], unit=host_labels[1], room=host_labels[2]
        )
        visitor = uow.visitors.add(
            name=name,
            doc_type=info.doc_type,
            number=info.number,
            host=host,
            reason=reason,
            starts_at=actor.at,
            ends_at=actor.at + timedelta(hours=command.hours),
        )
        uow.audit(
            "visitor.register",
            f"visitor:{visitor.ref}",
            {"host": host.ref, "until": visitor.ends_at.isoformat()},
        )
        uow.registry_changed()
        uow.commit()
    return visitor


def checked_visit(
    name_text: str, reason_text: str, hours: float, host_text: str
) -> tuple[str, str, tuple[str, str, str]]:
    """The rules of a visit, whoever registers it: name, reason, length, host flat."""
    name, reason = " ".join(name_text.split()), reason_text.strip()
    if not name:
        raise ActionRefused("required", field="name")
    if len(name) > MAX_NAME:
        raise ActionRefused("too_long", field="name", limit=MAX_NAME)
    if not reason:
        raise ActionRefused("required", field="reason")
    if len(reason) > MAX_REASON:
        raise ActionRefused("too_long", field="reason", limit=MAX_REASON)
    for field_name, value in (("name", name), ("reason", reason)):
        if _MARKUP.search(value):
            # Nothing on a page would run it (templates escape), but no name has these.
            raise ActionRefused("markup", field=field_name)
    if not VISIT_HOURS[0] <= hours <= VISIT_HOURS[1]:
        raise ActionRefused("visit_hours", low=VISIT_HOURS[0], high=VISIT_HOURS[1])
    parts = host_text.replace("/", "-").split("-")
    if len(parts) != 3 or not all(part.strip() for part in parts):
        raise ActionRefused("host_format")
    return name, reason, (parts[0].strip(), parts[1].strip(), parts[2].strip())
