"""The impact assessment face enrolment waits for: refused on every path until an admin
records one (here the use case; the office page, the CLI and the browser in their own
tests), checked once, audited once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from gate.app.actor import Actor
from gate.app.faces import EnrolFace, enrol_face
from gate.app.impact_assessments import (
    RecordAssessment,
    impact_assessments,
    record_impact_assessment,
)
from gate.domain.errors import ActionRefused
from registry.models import FaceTemplate
from tests.api.test_office_support import Compound, audits
from tests.gate.app.test_faces import CONSENT, FakeEnroller, consent, good

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
ADMIN = Actor("admin", "test", NOW)
GOOD = RecordAssessment("2026-11-30", "数据保护负责人", "PIA-2026-07, office safe", "main lane")


def test_enrolment_is_refused_until_an_assessment_is_recorded(compound: Compound) -> None:
    services = compound.services
    consent(services, compound.wang, CONSENT)  # consent alone is not enough
    enroller = FakeEnroller([good(1)])
    with pytest.raises(ActionRefused) as refused:
        enrol_face(
            EnrolFace(compound.wang, b"photo"),
            actor=ADMIN,
            units=services.units,
            enroller=enroller,
            gallery=services.face_gallery,
        )
    assert refused.value.code == "face_assessment_missing"
    assert enroller.photos == []  # refused before the photo is even encoded
    assert [row.detail["reason"] for row in audits(services, "action.refused")] == [
        "face_assessment_missing"
    ]

    recorded = record_impact_assessment(GOOD, actor=ADMIN, units=services.units)
    assert (recorded.assessed_on.isoformat(), recorded.recorded_by) == ("2026-11-30", "admin")
    (row,) = audits(services, "face.assessment")
    assert row.target == f"assessment:{recorded.id}"
    assert row.detail == {"assessed_on": "2026-11-30", "assessed_by": "数据保护负责人"}
    assert impact_assessments(actor=ADMIN, units=services.units) == [recorded]

    enrolled = enrol_face(
        EnrolFace(compound.wang, b"photo"),
        actor=ADMIN,
        units=services.units,
        enroller=enroller,
        gallery=services.face_gallery,
    )
    with services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(FaceTemplate)) == 1
    assert enrolled.person_ref == compound.wang


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (RecordAssessment("", "x", "y", "z"), "required"),
        (RecordAssessment("30/11/2026", "x", "y", "z"), "date_format"),
        (RecordAssessment("2026-12-02", "x", "y", "z"), "face_assessment_future"),
        (RecordAssessment("2026-11-30", " ", "y", "z"), "required"),
        (RecordAssessment("2026-11-30", "x", "", "z"), "required"),
        (RecordAssessment("2026-11-30", "x", "y", "\n"), "required"),
        (RecordAssessment("2026-11-30", "x" * 101, "y", "z"), "too_long"),
    ],
)
def test_the_assessment_is_checked(
    compound: Compound, command: RecordAssessment, code: str
) -> None:
    with pytest.raises(ActionRefused) as refused:
        record_impact_assessment(command, actor=ADMIN, units=compound.services.units)
    assert refused.value.code == code
    assert impact_assessments(actor=ADMIN, units=compound.services.units) == []
