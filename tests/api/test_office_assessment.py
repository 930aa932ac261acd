"""The impact-assessment page: admin only, the person page's face section says enrolment
waits for it, a refused form keeps what was typed, and once recorded faces may be enrolled
from the page."""

from __future__ import annotations

from sqlalchemy import func, select

from gate.domain.roles import Role
from gate.runtime.bootstrap import Services
from registry.models import AuditEvent, ImpactAssessment
from tests.api.test_office_faces import consent, photo, upload
from tests.api.test_office_support import PASSWORD, Compound, app_client, csrf, populate, sign_in
from tests.gate.app.staff_builders import add_staff


def assessments(services: Services) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(ImpactAssessment)) or 0)


def test_the_admin_records_the_assessment_and_the_office_may_then_enrol(
    services: Services,
) -> None:
    compound: Compound = populate(services)
    add_staff(services, "admin", Role.ADMIN, PASSWORD)
    with app_client(services) as office:
        sign_in(office, "office")
        assert office.get("/office/assessment").status_code == 403  # admin only
        person = office.get(f"/office/persons/{compound.wang}", headers={"accept": "text/html"})
        assert 'id="face-assessment-missing"' in person.text
        assert "尚未登记个人信息保护影响评估" in person.text
        consent(office, compound.wang)
        refused = upload(office, compound.wang, photo())
        assert refused.status_code == 422  # type: ignore[attr-defined]
        assert "请管理员在「影响评估」页面登记后再录入人脸" in refused.text  # type: ignore[attr-defined]

        with app_client(services) as admin:
            sign_in(admin, "admin")
            blank = admin.get("/office/assessment", headers={"accept": "text/html"})
            assert 'id="assessment-none"' in blank.text
            token = csrf(admin, "/office/assessment")
            form = {
                "csrf_token": token,
                "assessed_on": "2099-01-01",
                "assessed_by": "数据保护负责人",
                "reference": "PIA-2026-07",
                "scope": "main lane",
            }
            future = admin.post("/office/assessment", data=form)
            assert future.status_code == 422
            assert "评估日期不能晚于今天" in future.text
            assert "PIA-2026-07" in future.text  # what was typed stays
            assert assessments(services) == 0
            done = admin.post("/office/assessment", data={**form, "assessed_on": "2026-11-30"})
            assert done.status_code == 303
            assert done.headers["location"] == "/office/assessment?done=assessment_recorded"
            shown = admin.get(done.headers["location"], headers={"accept": "text/html"})
            assert "已登记影响评估，可以录入人脸" in shown.text
            assert 'id="assessment-in-force"' in shown.text
            assert "PIA-2026-07" in shown.text

        enrolled = upload(office, compound.wang, photo())
        assert enrolled.status_code == 303, enrolled.text  # type: ignore[attr-defined]
        person = office.get(f"/office/persons/{compound.wang}", headers={"accept": "text/html"})
        assert 'id="face-assessment-missing"' not in person.text
    with services.database.session() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions.count("face.assessment") == 1
    assert "face.enrol" in actions
