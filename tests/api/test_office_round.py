"""The building head's daily round: temperatures, needs, and the escorted hospital exit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gate.runtime.bootstrap import Services
from registry.models import Exemption, HealthCheck, HouseholdNeed
from tests.api.test_office_support import (
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


def checks(services: Services) -> list[HealthCheck]:
    with services.database.session() as session:
        return list(session.scalars(select(HealthCheck).order_by(HealthCheck.id)))


def needs(services: Services) -> list[HouseholdNeed]:
    with services.database.session() as session:
        return list(session.scalars(select(HouseholdNeed).order_by(HouseholdNeed.id)))


def exemptions(services: Services) -> list[Exemption]:
    with services.database.session() as session:
        return list(session.scalars(select(Exemption).order_by(Exemption.id)))


def test_the_round_lists_todays_quarantined_persons_of_the_heads_buildings(
    head: TestClient, compound: Compound
) -> None:
    page = html(head, "/office/round")
    assert page.status_code == 200
    assert f'id="p-{compound.zhang}"' in page.text
    assert "张*丰" in page.text
    assert "张三丰" not in page.text
    assert f'id="p-{compound.zhao}"' not in page.text  # building 3 is not theirs
    assert f'id="p-{compound.wang}"' not in page.text  # not in quarantine
    assert "今日未测" in page.text


def test_a_temperature_is_recorded_once_a_day_and_updated_when_entered_again(
    head: TestClient, compound: Compound
) -> None:
    token = csrf(head, "/office/round")
    first = head.post(
        "/office/round/temperature",
        data={"csrf_token": token, "person": compound.zhang, "temperature": "36.6", "note": ""},
    )
    assert first.status_code == 303
    assert first.headers["location"] == f"/office/round?done=temperature_saved#p-{compound.zhang}"
    again = head.post(
        "/office/round/temperature",
        data={"csrf_token": token, "person": compound.zhang, "temperature": "37.5", "note": "咳嗽"},
    )
    assert again.headers["location"].startswith("/office/round?done=temperature_replaced")
    (check,) = checks(compound.services)
    assert check.temperature == 37.5
    assert check.day == today()
    assert check.note == "咳嗽"
    assert check.recorded_by == "head"
    recorded = audits(compound.services, "health_check.record")
    assert [row.detail["replaced"] for row in recorded] == [False, True]
    assert recorded[1].detail["fever"] is True
    page = html(head, "/office/round").text
    assert 'class="fever"' in page  # the row is highlighted
    assert '<span class="temp hot"' in page
    assert "37.5℃" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("60", "体温 35.0–42.0℃ 之外"),
        ("abc", "体温必须是数字"),
        ("34.9", "体温 35.0–42.0℃ 之外"),
        ("nan", "体温 35.0–42.0℃ 之外"),
        ("", "体温必须是数字"),
    ],
)
def test_an_impossible_temperature_is_refused_with_a_message(
    head: TestClient, compound: Compound, typed: str, message: str
) -> None:
    response = head.post(
        "/office/round/temperature",
        data={"csrf_token": csrf(head), "person": compound.zhang, "temperature": typed},
    )
    assert response.status_code == 422
    assert message in response.text
    assert f'id="p-{compound.zhang}"' in response.text  # the round, with the message at the row
    assert checks(compound.services) == []
    assert audits(compound.services, "health_check.record") == []


def test_temperatures_at_the_edges_are_accepted(head: TestClient, compound: Compound) -> None:
    token = csrf(head)
    for typed in ("35.0", "42,0"):
        response = head.post(
            "/office/round/temperature",
            data={"csrf_token": token, "person": compound.zhang, "temperature": typed},
        )
        assert response.status_code == 303
    assert checks(compound.services)[0].temperature == 42.0


def test_another_buildings_person_cannot_be_measured(head: TestClient, compound: Compound) -> None:
    response = head.post(
        "/office/round/temperature",
        data={"csrf_token": csrf(head), "person": compound.zhao, "temperature": "36.5"},
    )
    assert response.status_code == 403
    assert checks(compound.services) == []
    assert audits(compound.services, "access.denied")[0].target == f"person:{compound.zhao}"


def test_a_temperature_without_the_csrf_token_is_refused(
    head: TestClient, compound: Compound
) -> None:
    response = head.post(
        "/office/round/temperature", data={"person": compound.zhang, "temperature": "36.5"}
    )
    assert response.status_code == 403
    assert checks(compound.services) == []
    assert audits(compound.services, "access.denied")[0].target == "csrf"


def test_a_hospital_need_issues_a_one_time_escorted_exit_pass(
    head: TestClient, compound: Compound
) -> None:
    before = revision(compound.services)
    response = head.post(
        "/office/round/needs",
        data={
            "csrf_token": csrf(head),
            "household": compound.home_202,
            "kind": "hospital",
            "detail": "复诊，社区医生陪同",
            "escort": "1",
            "escort_person": compound.zhang,
            "escort_hours": "",
        },
    )
    assert response.status_code == 303
    assert "done=pass_issued" in response.headers["location"]
    (need,) = needs(compound.services)
    assert (need.kind, need.status, need.detail) == ("hospital", "open", "复诊，社区医生陪同")
    (exemption,) = exemptions(compound.services)
    assert exemption.person_id == person(compound.services, compound.zhang).id
    assert exemption.rule_ids == ["quarantine"]
    assert exemption.single_use is True
    assert exemption.reason == "就医（陪同）"
    assert exemption.expires_at is not None
    expected = datetime.now(UTC) + timedelta(hours=6)
    assert abs(exemption.expires_at - expected) < timedelta(minutes=1)
    assert revision(compound.services) > before
    assert audits(compound.services, "exemption.add")[0].detail["single_use"] is True
    assert audits(compound.services, "need.record")[0].detail["escort"] is True
    page = html(head, "/office/round").text
    assert "陪同就医出门单" in page
    assert "复诊，社区医生陪同" in page


def test_needs_without_a_pass_and_their_resolution(head: TestClient, compound: Compound) -> None:
    token = csrf(head)
    response = head.post(
        "/office/round/needs",
        data={
            "csrf_token": token,
            "household": compound.home_202,
            "kind": "food",
            "detail": "大米 5 斤",
        },
    )
    assert "done=need_saved" in response.headers["location"]
    assert exemptions(compound.services) == []
    (need,) = needs(compound.services)
    resolved = head.post(
        f"/office/round/needs/{need.id}/resolve",
        data={"csrf_token": token, "household": compound.home_202},
    )
    assert resolved.status_code == 303
    (need,) = needs(compound.services)
    assert need.status == "resolved"
    assert need.resolved_by == "head"
    assert audits(compound.services, "need.resolve")[0].target == f"household:{compound.home_202}"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kind": "food", "escort": "1"}, "陪同出门单只能用于就医"),
        ({"kind": "hospital", "escort": "1", "escort_hours": "48"}, "0.5 到 24.0 小时"),
        ({"kind": "hospital", "escort": "1", "escort_person": "nobody"}, "请选择本户的就医人员"),
        ({"kind": "party"}, "需求类型的取值无效"),
    ],
)
def test_a_need_that_cannot_be_recorded_writes_nothing(
    head: TestClient, compound: Compound, values: dict[str, str], message: str
) -> None:
    form = {
        "csrf_token": csrf(head),
        "household": compound.home_202,
        "detail": "",
        "escort_person": compound.zhang,
        **values,
    }
    response = head.post("/office/round/needs", data=form)
    assert response.status_code == 422
    assert message in response.text
    assert needs(compound.services) == []
    assert exemptions(compound.services) == []


def test_another_buildings_household_gets_no_need(head: TestClient, compound: Compound) -> None:
    response = head.post(
        "/office/round/needs",
        data={"csrf_token": csrf(head), "household": compound.home_301, "kind": "food"},
    )
    assert response.status_code == 403
    assert needs(compound.services) == []
    assert audits(compound.services, "access.denied")[0].target == f"household:{compound.home_301}"


def test_the_office_round_covers_every_building(compound: Compound) -> None:
    with app_client(compound.services) as client:
        sign_in(client, "office")
        page = html(client, "/office/round").text
    assert f'id="p-{compound.zhang}"' in page
    assert f'id="p-{compound.zhao}"' in page
