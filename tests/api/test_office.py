"""The office pages: households by building, persons added, edited, moved out; statuses.

Building heads see only their own buildings; reaching for another one by URL is refused
with 403 and an audit row. Every form needs its CSRF token. Bad input comes back on the
page with the reason and writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gate.domain.people import HealthStatus
from gate.domain.status import end_of_local_day, start_of_local_day
from tests.api.test_office_support import (
    NEWCOMER,
    OTHER_BUILDING,
    RESIDENT_A,
    Compound,
    app_client,
    audits,
    csrf,
    html,
    person,
    person_by_number,
    person_count,
    revision,
    sign_in,
    today,
)
from tests.registry.builders import resident_number as number


def new_person(token: str, **values: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "name": "孙悟空",
        "sex": "",
        "doc_type": "resident_id",
        "doc_number": NEWCOMER,
        "phone": "139 1234 5678",
        "relation": "family",
        "kind": "resident",
        "building": "1",
        "unit": "1",
        "room": "101",
    }
    form.update(values)
    return form


def test_a_building_head_sees_their_buildings_and_masked_names(
    head: TestClient, compound: Compound
) -> None:
    home = html(head, "/office")
    assert home.status_code == 200
    assert 'href="/office/buildings/1"' in home.text
    assert 'href="/office/buildings/2"' in home.text
    assert 'href="/office/buildings/3"' not in home.text
    building = html(head, "/office/buildings/1")
    assert building.status_code == 200
    assert "王*明" in building.text
    assert "张*丰" in building.text
    assert "王小明" not in building.text
    assert "张三丰" not in building.text
    household = html(head, f"/office/households/{compound.home_101}")
    assert household.status_code == 200
    assert "李*" in household.text
    assert "李梅" not in household.text
    assert "**************" in household.text  # document numbers masked to the last four


def test_a_persons_own_page_shows_the_full_name(head: TestClient, compound: Compound) -> None:
    page = html(head, f"/office/persons/{compound.zhang}")
    assert page.status_code == 200
    assert "张三丰" in page.text
    assert "居家隔离" in page.text


@pytest.mark.parametrize("target", ["household", "person", "building"])
def test_another_buildings_household_by_url_is_refused_and_audited(
    head: TestClient, compound: Compound, target: str
) -> None:
    path = {
        "household": f"/office/households/{compound.home_301}",
        "person": f"/office/persons/{compound.zhao}",
        "building": "/office/buildings/3",
    }[target]
    response = html(head, path)
    assert response.status_code == 403
    assert "赵" not in response.text
    denied = audits(compound.services, "access.denied")
    assert len(denied) == 1
    assert denied[0].actor == "head"
    assert denied[0].target.startswith(target)
    assert denied[0].detail["path"] == path


def test_the_office_sees_every_building(office: TestClient, compound: Compound) -> None:
    assert 'href="/office/buildings/3"' in html(office, "/office").text
    assert html(office, f"/office/households/{compound.home_301}").status_code == 200


def test_a_guard_may_not_open_the_office_pages(compound: Compound) -> None:
    with app_client(compound.services) as client:
        sign_in(client, "guard")
        assert html(client, "/office").status_code == 403
    assert audits(compound.services, "access.denied")[0].target == "permission:office"


def test_adding_a_person_writes_them_through_the_registry(
    head: TestClient, compound: Compound
) -> None:
    before = revision(compound.services)
    response = head.post("/office/persons", data=new_person(csrf(head)))
    assert response.status_code == 303
    added = person_by_number(compound.services, NEWCOMER)
    assert added is not None
    assert response.headers["location"] == f"/office/persons/{added.ref}?done=person_added"
    row = person(compound.services, added.ref)
    assert row.name == "孙悟空"
    assert row.sex.value == "male"  # from the number
    assert row.phone_last4 == "5678"
    assert row.household is not None
    assert row.household.ref == compound.home_101
    assert row.documents[0].number_last4 == NEWCOMER[-4:]
    assert revision(compound.services) > before
    assert audits(compound.services, "person.add")[0].target == f"person:{added.ref}"
    page = html(head, response.headers["location"])
    assert "已登记" in page.text
    assert "孙悟空" in page.text


@pytest.mark.parametrize(
    ("doc_number", "reason"),
    [
        (NEWCOMER[:-1] + ("0" if NEWCOMER[-1] != "0" else "1"), "校验位不符"),
        (NEWCOMER[:17], "应为 18 位，实际 17 位"),
        (number("19901332", "009"), "出生日期不存在"),
    ],
)
def test_an_invalid_id_number_is_refused_naming_the_reason(
    head: TestClient, compound: Compound, doc_number: str, reason: str
) -> None:
    count = person_count(compound.services)
    response = head.post(
        "/office/persons",
        data=new_person(csrf(head), doc_number=doc_number, household=compound.home_101),
        headers={"accept": "text/html"},
    )
    assert response.status_code == 422
    assert "证件号码无效" in response.text
    assert reason in response.text
    assert doc_number not in response.text  # the number is not echoed back
    assert person_count(compound.services) == count
    assert audits(compound.services, "person.add") == []


def test_an_invalid_id_number_is_explained_in_english_too(
    head: TestClient, compound: Compound
) -> None:
    head.cookies.set("gate_lang", "en")
    response = head.post("/office/persons", data=new_person(csrf(head), doc_number="1234"))
    assert response.status_code == 422
    assert "Invalid document number: expected 18 characters, got 4" in response.text


def test_a_document_already_registered_is_refused(head: TestClient, compound: Compound) -> None:
    count = person_count(compound.services)
    response = head.post("/office/persons", data=new_person(csrf(head), doc_number=OTHER_BUILDING))
    assert response.status_code == 422
    # The holder lives in building 3, outside the head's scope: not even that someone does.
    assert "无法由此账号登记" in response.text
    assert "已登记在本小区" not in response.text
    assert "3号楼" not in response.text  # where they live is not told
    assert person_count(compound.services) == count


def test_a_building_head_cannot_add_a_person_to_another_building(
    head: TestClient, compound: Compound
) -> None:
    count = person_count(compound.services)
    response = head.post("/office/persons", data=new_person(csrf(head), building="3"))
    assert response.status_code == 403
    assert person_count(compound.services) == count
    assert audits(compound.services, "access.denied")[0].target == "building:3"


def test_a_form_without_its_csrf_token_changes_nothing_and_is_audited(
    head: TestClient, compound: Compound
) -> None:
    count, before = person_count(compound.services), revision(compound.services)
    form = new_person("")
    del form["csrf_token"]
    response = head.post("/office/persons", data=form)
    assert response.status_code == 403
    wrong = head.post(f"/office/persons/{compound.wang}/move-out", data={"csrf_token": "forged"})
    assert wrong.status_code == 403
    assert person_count(compound.services) == count
    assert person(compound.services, compound.wang).moved_out_at is None
    assert revision(compound.services) == before
    denied = audits(compound.services, "access.denied")
    assert [row.target for row in denied] == ["csrf", "csrf"]
    assert denied[0].detail["path"] == "/office/persons"


def test_a_five_megabyte_text_field_is_refused_before_it_is_read(
    head: TestClient, compound: Compound
) -> None:
    count = person_count(compound.services)
    response = head.post("/office/persons", data=new_person(csrf(head), name="长" * 5_000_000))
    assert response.status_code == 413
    assert person_count(compound.services) == count


def test_editing_a_person_goes_through_the_writer_and_is_audited(
    head: TestClient, compound: Compound
) -> None:
    response = head.post(
        f"/office/persons/{compound.li}",
        data={
            "csrf_token": csrf(head),
            "name": "李 梅梅",
            "sex": "female",
            "phone": "13912345678",
            "relation": "family",
            "kind": "resident",
            "building": "1",
            "unit": "1",
            "room": "202",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=person_saved")
    row = person(compound.services, compound.li)
    assert row.name == "李 梅梅"
    assert row.phone_last4 == "5678"
    assert row.household is not None
    assert row.household.ref == compound.home_202
    changed = audits(compound.services, "person.update")[0].detail["changed"]
    assert changed == ["household_id", "name", "phone"]


def test_a_wrong_sex_for_the_number_is_refused(head: TestClient, compound: Compound) -> None:
    response = head.post(
        f"/office/persons/{compound.wang}",
        data={
            "csrf_token": csrf(head),
            "name": "王小明",
            "sex": "female",
            "kind": "resident",
            "building": "1",
            "unit": "1",
            "room": "101",
        },
    )
    assert response.status_code == 422
    assert "性别与证件号码不符" in response.text
    assert person(compound.services, compound.wang).sex.value == "male"


def test_moving_out_keeps_the_row(head: TestClient, compound: Compound) -> None:
    before = revision(compound.services)
    response = head.post(
        f"/office/persons/{compound.wang}/move-out", data={"csrf_token": csrf(head)}
    )
    assert response.status_code == 303
    row = person(compound.services, compound.wang)
    assert row.moved_out_at is not None
    assert revision(compound.services) > before
    assert "王*明" not in html(head, "/office/buildings/1").text
    household = html(head, f"/office/households/{compound.home_101}").text
    assert 'class="moved"' in household  # still listed, struck through
    again = head.post(f"/office/persons/{compound.wang}/move-out", data={"csrf_token": csrf(head)})
    assert again.status_code == 422


def test_a_status_runs_whole_local_days_and_can_be_ended_early(
    head: TestClient, compound: Compound
) -> None:
    first, last = today(), today() + timedelta(days=13)
    before = revision(compound.services)
    response = head.post(
        f"/office/persons/{compound.wang}/statuses",
        data={
            "csrf_token": csrf(head),
            "status": "home_quarantine",
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "legal_basis": "public_health_emergency",
            "note": "密接",
        },
    )
    assert response.status_code == 303
    record = person(compound.services, compound.wang).statuses[0]
    assert record.status is HealthStatus.HOME_QUARANTINE
    assert record.starts_at == start_of_local_day(first)
    assert record.ends_at == end_of_local_day(last)
    assert record.recorded_by == "head"
    assert revision(compound.services) > before
    assert audits(compound.services, "status.start")[0].detail["to"] == last.isoformat()
    page = html(head, f"/office/persons/{compound.wang}").text
    assert last.isoformat() in page

    ended = head.post(f"/office/statuses/{record.id}/end", data={"csrf_token": csrf(head)})
    assert ended.status_code == 303
    record = person(compound.services, compound.wang).statuses[0]
    assert record.ends_at is not None
    assert abs(record.ends_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert audits(compound.services, "status.end")[0].target == f"person:{compound.wang}"
    again = head.post(f"/office/statuses/{record.id}/end", data={"csrf_token": csrf(head)})
    assert again.status_code == 422


def test_a_status_with_its_end_before_its_start_is_refused(
    head: TestClient, compound: Compound
) -> None:
    response = head.post(
        f"/office/persons/{compound.wang}/statuses",
        data={
            "csrf_token": csrf(head),
            "status": "home_quarantine",
            "first_day": today().isoformat(),
            "last_day": (today() - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert "结束时间早于开始时间" in response.text
    assert person(compound.services, compound.wang).statuses == []


def test_another_buildings_status_cannot_be_ended(head: TestClient, compound: Compound) -> None:
    record = person(compound.services, compound.zhao).statuses[0]
    response = head.post(f"/office/statuses/{record.id}/end", data={"csrf_token": csrf(head)})
    assert response.status_code == 403
    assert person(compound.services, compound.zhao).statuses[0].ends_at == record.ends_at


def test_the_pages_speak_english_on_request(head: TestClient, compound: Compound) -> None:
    head.cookies.set("gate_lang", "en")
    page = html(head, f"/office/households/{compound.home_202}").text
    assert "Register a resident" in page
    assert "home quarantine" in page.lower()


def test_a_person_who_moved_out_can_be_registered_again(
    head: TestClient, compound: Compound
) -> None:
    token = csrf(head)
    head.post(f"/office/persons/{compound.wang}/move-out", data={"csrf_token": token})
    count = person_count(compound.services)
    response = head.post(
        "/office/persons",
        data=new_person(token, name="王小明", doc_number=RESIDENT_A, phone="", room="502"),
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/office/persons/{compound.wang}?")
    row = person(compound.services, compound.wang)
    assert row.moved_out_at is None
    assert row.phone_last4 == "1234"  # kept: the form left the phone empty
    assert person_count(compound.services) == count
    assert audits(compound.services, "person.add")[0].detail["returned"] is True
