"""The personal-information impact assessment face enrolment waits for (PIPL Art. 55-56).

Processing sensitive personal information (a face is biometric) needs an impact
assessment beforehand, and its record kept for three years. An admin records it here
(the date, who assessed, a summary or where the report is kept, the scope: which lanes,
which residents, what is stored); until one is on file every enrolment path refuses with
``face_assessment_missing`` (``gate.app.faces.enrol_face``: office pages, ``gate face
enroll``, the demo). Audited as ``face.assessment``; records are kept, never edited.

Refusal codes: required / too_long (assessed_by, reference, scope), date_format /
required (assessed_on), face_assessment_future (dated after today).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gate.app.actor import Actor
from gate.app.face_ports import AssessmentOnFile
from gate.app.forms import parse_day
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.app.refusals import audit_refusal
from gate.domain.errors import ActionRefused, GateError
from gate.domain.status import local_date

MAX_ASSESSED_BY = 100
MAX_TEXT = 4000


@dataclass(frozen=True)
class RecordAssessment:
    """An impact assessment as the admin typed it (the date as ``YYYY-MM-DD``)."""

    assessed_on: str
    assessed_by: str
    reference: str
    scope: str


def _text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise ActionRefused("required", field=field)
    if len(text) > limit:
        raise ActionRefused("too_long", field=field, limit=limit)
    return text


def record_impact_assessment(
    command: RecordAssessment, *, actor: Actor, units: UnitOfWorkFactory
) -> AssessmentOnFile:
    """Record the assessment (audited); from then on faces may be enrolled."""
    try:
        assessed_on = parse_day(command.assessed_on, field_name="assessed_on", required=True)
        assert assessed_on is not None
        if assessed_on > local_date(actor.at):
            raise ActionRefused("face_assessment_future", field="assessed_on")
        assessed_by = _text(command.assessed_by, "assessed_by", MAX_ASSESSED_BY)
        reference = _text(command.reference, "reference", MAX_TEXT)
        scope = _text(command.scope, "scope", MAX_TEXT)
        with units(actor) as uow:
            recorded = uow.faces.record_assessment(
                assessed_on=assessed_on, assessed_by=assessed_by, reference=reference, scope=scope
            )
            uow.audit(
                "face.assessment",
                f"assessment:{recorded.id}",
                {"assessed_on": assessed_on.isoformat(), "assessed_by": assessed_by},
            )
            uow.commit()
        return recorded
    except GateError as refused:
        audit_refusal(units, actor, "assessment", refused)
        raise


def impact_assessments(*, actor: Actor, units: UnitOfWorkFactory) -> Sequence[AssessmentOnFile]:
    """Every assessment on file, newest first."""
    with units(actor) as uow:
        return uow.faces.assessments()


def require_assessment(uow: UnitOfWork) -> AssessmentOnFile:
    """The latest assessment; ``ActionRefused("face_assessment_missing")`` if none."""
    on_file = uow.faces.assessments()
    if not on_file:
        raise ActionRefused("face_assessment_missing")
    return on_file[0]
