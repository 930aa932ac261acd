"""The impact assessment face enrolment waits for, recorded once by every test that enrols."""

from __future__ import annotations

from datetime import UTC, datetime

from gate.app.actor import Actor
from gate.app.impact_assessments import RecordAssessment, record_impact_assessment
from gate.app.ports import UnitOfWorkFactory

ASSESSMENT = RecordAssessment(
    assessed_on="2026-11-02",
    assessed_by="测试评估人",
    reference="PIA-TEST-1 (the tests' assessment)",
    scope="every lane of the test compound",
)


def record_assessment(units: UnitOfWorkFactory) -> None:
    """Record the tests' impact assessment: faces may be enrolled from now on."""
    admin = Actor("admin", "test", datetime.now(UTC))
    record_impact_assessment(ASSESSMENT, actor=admin, units=units)
