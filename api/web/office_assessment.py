"""The impact-assessment page (admin only): what is on file, and the form to record one.

Face enrolment is refused on every path until an assessment is recorded here
(``gate.app.impact_assessments``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.i18n import refusal_text
from api.web.deps import actor, language, web
from api.web.office_common import AssessmentPost, AssessmentUser, done, page
from gate.app.impact_assessments import (
    RecordAssessment,
    impact_assessments,
    record_impact_assessment,
)
from gate.app.staff_values import ActiveSession
from gate.domain.errors import ActionRefused

router = APIRouter(prefix="/office")
Text = Annotated[str, Form()]
PATH = "/office/assessment"


def _page(
    request: Request,
    user: ActiveSession,
    *,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    on_file = impact_assessments(actor=actor(request, user), units=web(request).services.units)
    return page(
        request,
        "office_assessment.html",
        user,
        status_code=status_code,
        section="assessment",
        assessments=on_file,
        error=error,
        form=form or {},
    )


@router.get("/assessment")
def assessment_page(request: Request, user: AssessmentUser) -> Response:
    """The assessments on file and the form to record one."""
    return _page(request, user)


@router.post("/assessment")
def assessment_form(
    request: Request,
    user: AssessmentPost,
    assessed_on: Text = "",
    assessed_by: Text = "",
    reference: Text = "",
    scope: Text = "",
) -> Response:
    """Record an impact assessment; face enrolment is enabled from then on."""
    command = RecordAssessment(assessed_on, assessed_by, reference, scope)
    try:
        record_impact_assessment(
            command, actor=actor(request, user), units=web(request).services.units
        )
    except ActionRefused as problem:
        return _page(
            request,
            user,
            status_code=422,
            error=refusal_text(language(request), problem),
            form={
                "assessed_on": assessed_on,
                "assessed_by": assessed_by,
                "reference": reference,
                "scope": scope,
            },
        )
    return done(PATH, "assessment_recorded")
