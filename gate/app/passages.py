"""A guard's decision on a passage, from the terminal and ``gate log override`` alike."""

from __future__ import annotations

from dataclasses import dataclass

from gate.app.actor import Actor
from gate.app.pipeline import PassagePipeline, PassageResult
from gate.app.ports import UnitOfWorkFactory
from gate.app.refusals import audit_refusal
from gate.domain.errors import NotFound, OverrideRefused
from gate.domain.model import Outcome


@dataclass(frozen=True)
class OverridePassage:
    """Admit or deny passage ``seq`` with a reason code and a note."""

    seq: int
    outcome: Outcome
    reason_code: str
    text: str
    guard: str = ""  # who decided at the gate, when not the actor (``gate log override --guard``)


def override_passage(
    command: OverridePassage,
    *,
    actor: Actor,
    units: UnitOfWorkFactory,
    pipeline: PassagePipeline,
) -> PassageResult:
    """Log the guard's decision as its own row (and open the barrier on "admit"); audited.

    ``OverrideRefused`` (with a code) or ``NotFound`` is audited as a refusal and re-raised.
    """
    target = f"passage:{command.seq}"
    try:
        result = pipeline.override(
            command.seq,
            outcome=command.outcome,
            reason_code=command.reason_code,
            text=command.text,
            guard=command.guard or actor.name,
        )
    except (OverrideRefused, NotFound) as refused:
        audit_refusal(units, actor, target, refused)
        raise
    with units(actor) as uow:
        uow.audit(
            "passage.override",
            target,
            {
                "outcome": command.outcome.value,
                "reason": command.reason_code,
                "override_seq": result.record.seq if result.record else None,
            },
        )
        uow.commit()
    return result
