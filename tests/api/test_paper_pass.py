"""A printable paper pass for a resident without a smartphone (office person page).

The office issues a non-rotating resident pass and gets a print page (no-store) with the
QR text in a data attribute; the gate lets that text in until the pass is revoked on the
person page, like any other pass.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.i18n import t
from gate.domain.model import Credential, CredentialKind, Direction
from gate.domain.passes import PassKind, PassValid
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import build_gate
from tests.api.test_office_support import Compound, app_client, audits, csrf, sign_in


@dataclass
class Printed:
    pass_id: str
    text: str
    page: str


def print_paper_pass(client: TestClient, ref: str, days: str | None = None) -> Printed:
    """Issue a paper pass on the person page: its id, QR text (from the page) and page."""
    data = {"csrf_token": csrf(client, f"/office/persons/{ref}")}
    if days is not None:
        data["days"] = days
    answer = client.post(f"/office/persons/{ref}/paper-pass", data=data)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    text = re.search(r'id="paper-qr" data-pass-text="([^"]+)"', answer.text)
    pass_id = re.search(r'id="paper-id">([0-9a-f]{16})<', answer.text)
    assert text is not None
    assert pass_id is not None
    return Printed(pass_id.group(1), htmllib.unescape(text.group(1)), answer.text)


def row_of(page_text: str, pass_id: str) -> str:
    """The pass list's row of one pass."""
    found = re.search(rf'<tr[^>]*data-pass="{pass_id}"[^>]*>.*?</tr>', page_text, re.S)
    assert found is not None, pass_id
    return found.group(0)


def shown(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def test_the_person_page_offers_a_paper_pass_with_its_validity_choice(
    office: TestClient, compound: Compound
) -> None:
    page = office.get(f"/office/persons/{compound.wang}")
    form = re.search(r'<form[^>]*id="paper-pass">.*?</form>', page.text, re.S)
    assert form is not None
    assert f'action="/office/persons/{compound.wang}/paper-pass"' in form.group(0)
    assert 'name="csrf_token"' in form.group(0)
    assert t("zh", "phone.office.paper_issue") in form.group(0)
    choices = re.findall(r'<option value="(\d+)" ?(selected)?>', form.group(0))
    assert choices == [("30", ""), ("90", "selected"), ("180", "")]
    office.cookies.set("gate_lang", "en")
    english = office.get(f"/office/persons/{compound.wang}")
    assert "Print paper pass" in english.text


def test_a_paper_pass_prints_lets_the_resident_in_and_stops_once_revoked(
    office: TestClient, compound: Compound
) -> None:
    before = datetime.now(UTC)
    printed = print_paper_pass(office, compound.wang)

    check = compound.services.pass_verifier.verify(printed.text, now=datetime.now(UTC))
    assert isinstance(check, PassValid), check
    claims = check.claims
    assert claims.pass_id == printed.pass_id
    assert claims.kind is PassKind.RESIDENT
    assert claims.subject_ref == compound.wang
    assert claims.rotating is False
    # Ninety days by default, and the same text holds at any moment inside them.
    assert claims.not_after - claims.not_before == timedelta(days=90)
    assert before - timedelta(minutes=1) <= claims.not_before <= datetime.now(UTC)  # minutes
    later = datetime.now(UTC) + timedelta(days=89)
    assert compound.services.pass_verifier.verify(printed.text, now=later).valid

    # The card: masked name, home, id, local validity, what to do with it; print only it.
    assert "王*明" in printed.page
    assert "王小明" not in printed.page
    assert "1号楼1单元101" in printed.page
    assert f'id="paper-from">{shown(claims.not_before)}' in printed.page
    assert f'id="paper-until">{shown(claims.not_after)}' in printed.page
    for key in ("phone.paper.show", "phone.paper.lost"):
        assert t("zh", key) in printed.page
    assert "@media print" in printed.page
    assert "data-print" in printed.page  # page.js makes it print
    assert "/static/vendor/qrcode.js" in printed.page
    assert "/static/passcode.js" in printed.page

    gate = build_gate(compound.services)
    allowed = gate.pipeline.process(
        Credential(CredentialKind.QR_PASS, code=printed.text), lane="main", direction=Direction.IN
    )
    assert allowed.decision.outcome.value == "allow", allowed.decision.reasons
    assert "qr_pass" in allowed.decision.reason_codes

    person_page = office.get(f"/office/persons/{compound.wang}")
    row = row_of(person_page.text, printed.pass_id)
    assert 'data-rotating="false"' in row
    assert 'data-note="paper"' in row
    assert t("zh", "pass.kind.resident") in row
    assert t("zh", "phone.office.paper_note") in row
    assert "/enrollment" not in row  # a paper pass goes on no phone
    assert f"/passes/{printed.pass_id}/revoke" in row

    revoked = office.post(
        f"/office/persons/{compound.wang}/passes/{printed.pass_id}/revoke",
        data={"csrf_token": csrf(office, f"/office/persons/{compound.wang}")},
    )
    assert revoked.status_code == 200
    assert t("zh", "phone.office.revoked", pass_id=printed.pass_id) in revoked.text
    assert t("zh", "phone.state.revoked") in row_of(revoked.text, printed.pass_id)
    gate.pipeline.reload_snapshot()
    refused = gate.pipeline.process(
        Credential(CredentialKind.QR_PASS, code=printed.text), lane="main", direction=Direction.OUT
    )
    assert refused.decision.outcome.value == "deny"
    assert refused.decision.reason_codes == ("pass_revoked",)
    assert len(audits(compound.services, "pass.issue")) == 1
    assert audits(compound.services, "pass.revoke")[-1].target == f"pass:{printed.pass_id}"


def test_the_validity_choices_and_a_forged_one(office: TestClient, compound: Compound) -> None:
    for days in ("30", "180"):
        printed = print_paper_pass(office, compound.li, days)
        check = compound.services.pass_verifier.verify(printed.text, now=datetime.now(UTC))
        assert isinstance(check, PassValid), check
        assert check.claims.not_after - check.claims.not_before == timedelta(days=int(days))
    token = csrf(office, f"/office/persons/{compound.li}")
    for forged in ("365", "abc", "-1"):
        refused = office.post(
            f"/office/persons/{compound.li}/paper-pass", data={"csrf_token": token, "days": forged}
        )
        assert refused.status_code == 422
        assert t("zh", "office.error.choice", field=t("zh", "office.field.paper_days")) in (
            htmllib.unescape(refused.text)
        )
        assert "data-pass-text" not in refused.text
    assert len(audits(compound.services, "pass.issue")) == 2
    no_csrf = office.post(f"/office/persons/{compound.li}/paper-pass", data={"csrf_token": "x"})
    assert no_csrf.status_code == 403
    assert len(audits(compound.services, "pass.issue")) == 2


def test_a_building_head_prints_within_scope_only(head: TestClient, compound: Compound) -> None:
    printed = print_paper_pass(head, compound.zhang)
    assert "张*丰" in printed.page
    token = csrf(head)
    outside = head.post(
        f"/office/persons/{compound.zhao}/paper-pass",
        data={"csrf_token": token},
        headers={"accept": "text/html"},
    )
    assert outside.status_code in (403, 404)
    assert "data-pass-text" not in outside.text
    assert "赵" not in outside.text
    assert len(audits(compound.services, "pass.issue")) == 1


def test_a_guard_may_not_print_one(compound: Compound) -> None:
    with app_client(compound.services) as guard:
        sign_in(guard, "guard")
        token = csrf(guard, "/terminal")
        refused = guard.post(
            f"/office/persons/{compound.wang}/paper-pass",
            data={"csrf_token": token},
            headers={"accept": "text/html"},
        )
    assert refused.status_code == 403
    assert audits(compound.services, "pass.issue") == []
