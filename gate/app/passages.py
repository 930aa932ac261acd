"""A guard's decision on a passage, from the terminal and ``gate log override`` alike."""

from __future__ import annotations

from dataclasses import dataclass

from gate.app.actor import Actor
from gate.app.face_passage_ports import FacePassageStore
from gate.app.pipeline import NOT_THIS_PERSON, PassagePipeline, PassageResult
from gate.app.ports import UnitOfWorkFactory
from gate.app.refusals import audit_refusal
from gate.domain.errors import NotFound, OverrideRefused
from gate.domain.face_policy import face_reason
from gate.domain.model import CredentialKind, Outcome


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
    faces: FacePassageStore | None = None,
) -> PassageResult:
    """Log the guard's decision as its own row (and open the barrier on "admit"); audited.

    On a face passage, "not this person" also stores the correction against the candidate
    (counted, shown with their next face passages), and a refused face passage keeps its
    snapshot past retention, as an incident's. ``OverrideRefused`` (with a code) or
    ``NotFound`` is audited as a refusal and re-raised.
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
    detail: dict[str, object] = {
        "outcome": command.outcome.value,
        "reason": command.reason_code,
        "override_seq": result.record.seq if result.record else None,
    }
    if faces is not None and result.record is not None:
        detail |= _face_follow_up(
            command, result, pipeline, faces, guard=command.guard or actor.name
        )
    with units(actor) as uow:
        uow.audit("passage.override", target, detail)
        uow.commit()
    return result


def _face_follow_up(
    command: OverridePassage,
    result: PassageResult,
    pipeline: PassagePipeline,
    faces: FacePassageStore,
    *,
    guard: str,
) -> dict[str, object]:
    """The correction and the incident snapshot of an override of a face passage."""
    original = pipeline.passage(command.seq).entry
    if original.credential_kind is not CredentialKind.FACE:
        return {}
    detail: dict[str, object] = {}
    if original.snapshot_ref and command.outcome is Outcome.DENY:
        faces.mark_incident([original.snapshot_ref])
        detail["snapshot_kept"] = True
    if command.reason_code == NOT_THIS_PERSON and original.person_ref is not None:
        found = face_reason(original.decision)
        distance = found.params.get("distance") if found is not None else None
        assert result.record is not None
        detail["corrections"] = faces.record_correction(
            passage_seq=command.seq,
            person_ref=original.person_ref,
            distance=float(distance) if isinstance(distance, int | float) else None,
            guard=guard,
            at=result.record.entry.at,
        )
    return detail
