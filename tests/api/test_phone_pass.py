"""A resident's phone pass: issued on the office person page, enrolled once by the phone.

The office shows the one-time enrollment code and its link once (no-store); the phone
spends it at ``POST /pass/enroll`` and gets its pass data; a second use, a wrong code
and the code of a revoked pass are refused with the same words and carry no pass.
"""

from __future__ import annotations

import base64
import html as htmllib
import json
import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.i18n import t
from tests.api.test_office_support import Compound, app_client, audits, csrf

REFUSED = t("zh", "office.error.enrollment_code")


def issue(client: TestClient, ref: str) -> tuple[str, str]:
    """Issue a phone pass on the person page; its pass id and enrollment code."""
    page = client.post(
        f"/office/persons/{ref}/passes", data={"csrf_token": csrf(client, f"/office/persons/{ref}")}
    )
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    code = re.search(r'id="enrollment-code">([0-9A-F]+)<', page.text)
    assert code is not None
    assert f"/pass/enroll?code={code.group(1)}" in page.text
    assert 'data-qr-text="http://testserver/pass/enroll?code=' in page.text
    pass_id = re.search(r'data-pass="([0-9a-f]{16})"', page.text)
    assert pass_id is not None
    return pass_id.group(1), code.group(1)


def enrolled_data(text: str) -> dict[str, object] | None:
    found = re.search(r'data-enrolled="([^"]*)"', text)
    return None if found is None else json.loads(htmllib.unescape(found.group(1)))


def test_an_enrollment_code_works_once(office: TestClient, compound: Compound) -> None:
    pass_id, code = issue(office, compound.wang)
    with app_client(compound.services) as phone:
        confirm = phone.get(f"/pass/enroll?code={code}")
        assert confirm.status_code == 200
        assert confirm.headers["cache-control"] == "no-store"
        assert f'value="{code}"' in confirm.text
        assert enrolled_data(confirm.text) is None  # looking at the link spends nothing

        first = phone.post("/pass/enroll", data={"code": code.lower()})
        assert first.status_code == 200
        assert first.headers["cache-control"] == "no-store"
        data = enrolled_data(first.text)
        assert data is not None
        assert data["pass_id"] == pass_id
        assert data["kind"] == "resident"
        assert data["masked_name"] == "王*明"
        assert data["home"]
        assert base64.b64decode(str(data["signed"]))
        assert len(base64.b64decode(str(data["secret"]))) >= 16
        not_after = datetime.fromisoformat(str(data["not_after"]))
        assert not_after > datetime.now(UTC)
        assert "王小明" not in first.text

        again = phone.post("/pass/enroll", data={"code": code})
        assert again.status_code == 422
        assert again.headers["cache-control"] == "no-store"
        assert REFUSED in again.text
        assert enrolled_data(again.text) is None
        assert "data-enrolled" not in again.text
    assert len(audits(compound.services, "pass.enrolled")) == 1
    phone_rows = [a for a in audits(compound.services, "action.refused") if a.actor == "phone"]
    assert phone_rows
    assert phone_rows[-1].origin.startswith("phone@")


def test_a_wrong_or_empty_code_is_refused_in_english_too(
    office: TestClient, compound: Compound
) -> None:
    with app_client(compound.services) as phone:
        wrong = phone.post("/pass/enroll", data={"code": "0123456789ABCDEF0123"})
        assert wrong.status_code == 422
        assert REFUSED in wrong.text
        assert "data-enrolled" not in wrong.text
        phone.cookies.set("gate_lang", "en")
        empty = phone.post("/pass/enroll", data={"code": ""})
        assert empty.status_code == 422
        assert t("en", "office.error.enrollment_code") in empty.text


def test_a_revoked_pass_code_is_refused(office: TestClient, compound: Compound) -> None:
    pass_id, code = issue(office, compound.wang)
    token = csrf(office, f"/office/persons/{compound.wang}")
    revoked = office.post(
        f"/office/persons/{compound.wang}/passes/{pass_id}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 200
    assert t("zh", "phone.office.revoked", pass_id=pass_id) in revoked.text
    assert t("zh", "phone.state.revoked") in revoked.text
    with app_client(compound.services) as phone:
        refused = phone.post("/pass/enroll", data={"code": code})
        assert refused.status_code == 422
        assert REFUSED in refused.text
        assert "data-enrolled" not in refused.text
    again = office.post(
        f"/office/persons/{compound.wang}/passes/{pass_id}/revoke", data={"csrf_token": token}
    )
    assert again.status_code == 422
    assert t("zh", "office.error.pass_already_revoked", pass_id=pass_id) in again.text


def test_a_new_code_for_an_active_pass_and_csrf(office: TestClient, compound: Compound) -> None:
    pass_id, _code = issue(office, compound.wang)
    token = csrf(office, f"/office/persons/{compound.wang}")
    fresh = office.post(
        f"/office/persons/{compound.wang}/passes/{pass_id}/enrollment", data={"csrf_token": token}
    )
    assert fresh.status_code == 200
    assert 'id="enrollment-code"' in fresh.text
    assert fresh.headers["cache-control"] == "no-store"
    plain = office.get(f"/office/persons/{compound.wang}")
    assert 'id="enrollment-code"' not in plain.text  # shown once
    assert pass_id in plain.text
    forged = office.post(f"/office/persons/{compound.wang}/passes", data={"csrf_token": "x"})
    assert forged.status_code == 403
    # A pass of someone else cannot be reached through this person's page.
    other = office.post(
        f"/office/persons/{compound.li}/passes/{pass_id}/revoke",
        data={"csrf_token": token},
        headers={"accept": "text/html"},
    )
    assert other.status_code == 404


def test_a_building_head_issues_within_scope_only(head: TestClient, compound: Compound) -> None:
    issue(head, compound.zhang)
    token = csrf(head)
    outside = head.post(
        f"/office/persons/{compound.zhao}/passes",
        data={"csrf_token": token},
        headers={"accept": "text/html"},
    )
    assert outside.status_code == 403
    assert audits(compound.services, "pass.issue")[-1].target.startswith("pass:")
    assert len(audits(compound.services, "pass.issue")) == 1


def test_the_pass_page_and_its_service_worker(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        page = phone.get("/pass/")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert "data-enrolled" not in page.text
        assert 'name="viewport"' in page.text
        assert "/static/passcode.js" in page.text
        worker = phone.get("/pass/sw.js")
        assert worker.status_code == 200
        assert worker.headers["service-worker-allowed"] == "/pass/"
        assert worker.headers["content-type"].startswith("text/javascript")
        assert "/static/passcode.js" in worker.text
