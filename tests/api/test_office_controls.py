"""Exemptions and rules from the office pages, for the roles that may change them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gate.domain.status import end_of_local_day
from gate.runtime.bootstrap import Services
from registry.models import Exemption, Rule
from tests.api.test_office_support import (
    RESIDENT_A,
    Compound,
    app_client,
    audits,
    csrf,
    html,
    person,
    revision,
    sign_in,
    today,
)


def exemptions(services: Services) -> list[Exemption]:
    with services.database.session() as session:
        return list(session.scalars(select(Exemption).order_by(Exemption.id)))


def rule(services: Services, rule_id: str) -> Rule:
    with services.database.session() as session:
        row = session.get(Rule, rule_id)
        assert row is not None
        return row


def test_a_building_head_may_not_manage_exemptions_or_rules(compound: Compound) -> None:
    with app_client(compound.services) as client:
        sign_in(client, "head")
        assert html(client, "/office/exemptions").status_code == 403
        assert html(client, "/office/rules").status_code == 403
        token = csrf(client)
        response = client.post(
            "/office/rules/fever",
            data={"csrf_token": token, "mode": "soft", "params": "threshold=36"},
        )
        assert response.status_code == 403
    assert rule(compound.services, "fever").mode == "hard"
    assert len(audits(compound.services, "access.denied")) == 3


def test_an_exemption_is_added_by_document_number_and_revoked(
    office: TestClient, compound: Compound
) -> None:
    before = revision(compound.services)
    last = today() + timedelta(days=30)
    response = office.post(
        "/office/exemptions",
        data={
            "csrf_token": csrf(office, "/office/exemptions"),
            "doc_type": "resident_id",
            "doc_number": RESIDENT_A,
            "rule_ids": ["household-quota", "curfew-out"],
            "reason": "复工证明（医院护士）",
            "until": last.isoformat(),
        },
    )
    assert response.status_code == 303
    (exemption,) = exemptions(compound.services)
    assert exemption.person_id == person(compound.services, compound.wang).id
    assert exemption.rule_ids == ["curfew-out", "household-quota"]
    assert exemption.expires_at == end_of_local_day(last)
    assert exemption.single_use is False
    assert revision(compound.services) > before
    page = html(office, "/office/exemptions").text
    assert "复工证明（医院护士）" in page
    assert "王*明" in page

    revoked = office.post(
        f"/office/exemptions/{exemption.id}/revoke", data={"csrf_token": csrf(office)}
    )
    assert revoked.status_code == 303
    (exemption,) = exemptions(compound.services)
    assert exemption.expires_at is not None
    assert abs(exemption.expires_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert audits(compound.services, "exemption.revoke")[0].target == f"person:{compound.wang}"
    assert "复工证明（医院护士）" not in html(office, "/office/exemptions").text


def test_an_exemption_from_a_persons_page_is_single_use(
    office: TestClient, compound: Compound
) -> None:
    page = html(office, f"/office/exemptions?person={compound.zhang}").text
    assert "张*丰" in page
    response = office.post(
        "/office/exemptions",
        data={
            "csrf_token": csrf(office),
            "person": compound.zhang,
            "rule_ids": "quarantine",
            "reason": "就医",
            "single_use": "1",
        },
    )
    assert response.status_code == 303
    (exemption,) = exemptions(compound.services)
    assert exemption.single_use is True
    assert exemption.expires_at is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"doc_number": "150102"}, "证件号码无效"),
        ({"rule_ids": []}, "请填写豁免的规则"),
        ({"reason": " "}, "请填写事由"),
        ({"rule_ids": ["no-such-rule"]}, "豁免的规则的取值无效"),
        ({"until": "2020-01-01"}, "有效期已经过去"),
    ],
)
def test_an_exemption_that_cannot_be_added_writes_nothing(
    office: TestClient, compound: Compound, values: dict[str, object], message: str
) -> None:
    form: dict[str, object] = {
        "csrf_token": csrf(office),
        "doc_type": "resident_id",
        "doc_number": RESIDENT_A,
        "rule_ids": ["curfew-out"],
        "reason": "复工",
        **values,
    }
    response = office.post("/office/exemptions", data=form)
    assert response.status_code == 422
    assert message in response.text
    assert exemptions(compound.services) == []


def test_the_rules_page_shows_what_is_in_force(office: TestClient, compound: Compound) -> None:
    page = html(office, "/office/rules").text
    assert 'id="rule-quarantine"' in page
    assert 'class="card rule in-force"' in page
    assert 'class="card rule off"' in page  # the quota and the curfew wait for a start
    assert "threshold=37.3" in page


def test_a_rule_is_changed_with_its_parameters_and_dates(
    office: TestClient, compound: Compound
) -> None:
    before = revision(compound.services)
    response = office.post(
        "/office/rules/curfew-out",
        data={
            "csrf_token": csrf(office),
            "mode": "soft",
            "params": "direction=out\nstart=22:30\nend=05:30",
            "effective_from": "2020-02-01T00:00",
            "effective_to": "",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/office/rules?done=rule_saved#rule-curfew-out"
    row = rule(compound.services, "curfew-out")
    assert row.mode == "soft"
    assert row.params == {"direction": "out", "start": "22:30", "end": "05:30"}
    assert row.effective_from == datetime(2020, 1, 31, 16, 0, tzinfo=UTC)
    assert row.updated_by == "office"
    assert revision(compound.services) > before
    after = audits(compound.services, "rule.change")[0].detail["after"]
    assert isinstance(after, dict)
    assert after["mode"] == "soft"
    assert 'id="rule-curfew-out"' in html(office, "/office/rules").text


@pytest.mark.parametrize(
    ("rule_id", "params", "message"),
    [
        ("curfew-out", "start=25:00", "参数「start」的值无效"),
        ("curfew-out", "stop=05:00", "此规则没有参数「stop」"),
        ("fever", "threshold=hot", "参数「threshold」的值无效"),
        ("household-quota", "persons", "参数应写成 键=值"),
        ("quarantine", "days=14", "此规则没有参数「days」"),
    ],
)
def test_a_parameter_the_rule_cannot_use_is_refused(
    office: TestClient, compound: Compound, rule_id: str, params: str, message: str
) -> None:
    before = rule(compound.services, rule_id)
    response = office.post(
        f"/office/rules/{rule_id}",
        data={"csrf_token": csrf(office), "mode": before.mode, "params": params},
    )
    assert response.status_code == 422
    assert message in response.text
    after = rule(compound.services, rule_id)
    assert (after.params, after.updated_at) == (before.params, before.updated_at)
    assert audits(compound.services, "rule.change") == []


def test_a_rule_ending_before_it_starts_is_refused(office: TestClient, compound: Compound) -> None:
    response = office.post(
        "/office/rules/fever",
        data={
            "csrf_token": csrf(office),
            "mode": "hard",
            "params": "threshold=37.3",
            "effective_to": "2000-01-01T00:00",
        },
    )
    assert response.status_code == 422
    assert "结束时间早于开始时间" in response.text
    assert rule(compound.services, "fever").effective_to is None
