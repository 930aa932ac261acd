"""Visitors register on their phones from the poster; the host or a guard decides.

A pending visit is not in the gate's snapshot (the visitor's card is an outsider's) until
the host confirms with their own resident pass or a guard approves at the terminal; then
the visitor's status page carries a rotating visitor pass the gate lets in. Bad input,
markup, a 10,000-character name and a flood from one address are each refused with their
own words, and nothing is stored for them.
"""

from __future__ import annotations

import base64
import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.i18n import t
from gate.app.actor import Actor
from gate.app.qr_passes import IssuePass, issue_pass
from gate.app.visit_requests import RETENTION_DAYS, SubmissionThrottle, purge_old_requests
from gate.app.visitors import MAX_NAME
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead, IdentityKind
from gate.domain.passes import PassKind, pass_text
from gate.runtime.bootstrap import build_gate
from registry.models import Visitor
from tests.api.test_office_support import RESIDENT_A, Compound, app_client, csrf, sign_in
from tests.registry.builders import resident_number as number

VISITOR = number("19950505", "008")


def _form(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "name": "刘女士",
        "phone": "139 0000 5678",
        "doc_type": "resident_id",
        "number": VISITOR,
        "building": "1",
        "unit": "1",
        "room": "101",
        "reason": "探望父母",
        "hours": "2",
        "consent": "yes",
    }
    form.update(changes)
    return form


def _register(phone: TestClient, **changes: object) -> tuple[str, str]:
    answer = phone.post("/visit/", data=_form(**changes))
    assert answer.status_code == 303, answer.text
    assert answer.headers["cache-control"] == "no-store"
    target = urlsplit(answer.headers["location"])
    status_code = target.path.rsplit("/", 1)[1]
    host_code = target.fragment.removeprefix("host=")
    return status_code, host_code


def _forget_submissions(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    app.state.web.visit_throttle = SubmissionThrottle()


def _visitors(compound: Compound) -> int:
    with compound.services.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Visitor)) or 0)


def _card_identity(compound: Compound) -> IdentityKind:
    gate = build_gate(compound.services)
    credential = Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, VISITOR)
    )
    result = gate.pipeline.process(credential, lane="main", direction=Direction.IN)
    assert result.record is not None
    return result.record.entry.identity_kind


def test_the_form_says_what_is_kept_and_for_how_long(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        page = phone.get("/visit/")
    assert page.status_code == 200
    assert t("zh", "visit.pipl.how_long", days=30) in page.text
    assert t("zh", "visit.pipl.what") in page.text
    assert 'name="consent"' in page.text


def test_a_guard_approves_a_pending_visit_and_the_phone_gets_a_pass_the_gate_takes(
    compound: Compound,
) -> None:
    with app_client(compound.services) as phone:
        status_code, host_code = _register(phone)
        assert len(host_code) > 20
        pending = phone.get(f"/visit/status/{status_code}/json").json()
        assert pending["status"] == "pending"
        assert pending["name"] == "刘*士"
        assert "pass" not in pending
        # Pending: the card opens nothing, the visitor is still an outsider to the gate.
        assert _card_identity(compound) is IdentityKind.OUTSIDER

        with app_client(compound.services) as guard:
            sign_in(guard, "guard")
            state = guard.get("/terminal/state").json()
            requests = state["header"]["requests"]
            assert [r["name"] for r in requests] == ["刘*士"]
            assert requests[0]["doc_last4"] == VISITOR[-4:]
            token = csrf(guard, "/terminal")
            decided = guard.post(
                f"/terminal/visit-requests/{requests[0]['ref']}",
                json={"approve": True},
                headers={"X-CSRF-Token": token},
            )
            assert decided.status_code == 200, decided.text
            assert decided.json()["status"] == "confirmed"
            again = guard.post(
                f"/terminal/visit-requests/{requests[0]['ref']}",
                json={"approve": False},
                headers={"X-CSRF-Token": token},
            )
            assert again.status_code == 409
            assert guard.get("/terminal/state").json()["header"]["requests"] == []

        confirmed = phone.get(f"/visit/status/{status_code}/json").json()
    assert confirmed["status"] == "confirmed"
    shown = confirmed["pass"]
    text = pass_text(
        base64.b64decode(shown["signed"]),
        base64.b64decode(shown["secret"]),
        datetime.now(UTC),
    )
    gate = build_gate(compound.services)
    result = gate.pipeline.process(
        Credential(CredentialKind.QR_PASS, code=text), lane="main", direction=Direction.IN
    )
    assert result.decision.outcome.value == "allow", result.decision.reasons
    assert result.decision.reason_codes == ("visitor", "qr_pass")
    # Confirmed: the visitor's own card is now a visitor's too.
    assert _card_identity(compound) is IdentityKind.VISITOR


def _resident_text(compound: Compound, subject: str) -> str:
    actor = Actor(name="office", origin="test", at=datetime.now(UTC))
    issued = issue_pass(
        IssuePass(PassKind.RESIDENT, subject),
        actor=actor,
        units=compound.services.units,
        signer=compound.services.pass_signer,
    )
    return issued.signed.text_at(datetime.now(UTC))


def test_the_host_confirms_with_their_own_pass_and_a_neighbour_cannot(
    compound: Compound,
) -> None:
    with app_client(compound.services) as phone:
        status_code, host_code = _register(phone)
        page = phone.get(f"/visit/host/{host_code}")
        assert page.status_code == 200
        assert "刘女士" in page.text
        assert "探望父母" in page.text
        neighbour = _resident_text(compound, compound.zhang)  # lives in 202, not 101
        refused = phone.post(
            f"/visit/host/{host_code}", json={"approve": True, "pass_text": neighbour}
        )
        assert refused.status_code == 422
        assert refused.json()["detail"] == t("zh", "office.error.host_not_household")
        forged = phone.post(f"/visit/host/{host_code}", json={"approve": True, "pass_text": "X"})
        assert forged.status_code == 422
        assert phone.get(f"/visit/status/{status_code}/json").json()["status"] == "pending"
        host = _resident_text(compound, RESIDENT_A)  # 王小明 of 101
        confirmed = phone.post(
            f"/visit/host/{host_code}", json={"approve": True, "pass_text": host}
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "confirmed"
        status = phone.get(f"/visit/status/{status_code}/json").json()
    assert status["status"] == "confirmed"
    assert "pass" in status


def test_the_host_declines_and_the_visit_never_reaches_the_gate(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        status_code, host_code = _register(phone)
        host = _resident_text(compound, RESIDENT_A)
        declined = phone.post(
            f"/visit/host/{host_code}", json={"approve": False, "pass_text": host}
        )
        assert declined.json()["status"] == "declined"
        assert phone.get(f"/visit/status/{status_code}/json").json()["status"] == "declined"
    assert _card_identity(compound) is IdentityKind.OUTSIDER


def test_markup_a_huge_name_bad_numbers_and_no_consent_are_refused_and_nothing_stored(
    compound: Compound,
) -> None:
    cases = {
        "markup": ({"name": "<script>alert(1)</script>"}, "office.error.markup"),
        "reason markup": ({"reason": "<img src=x onerror=alert(1)>"}, "office.error.markup"),
        "no consent": ({"consent": ""}, "office.error.consent_required"),
        "bad phone": ({"phone": "call me"}, "office.error.phone_format"),
        "no such flat": ({"room": "999"}, "error.not_found"),
        "long stay": ({"hours": "48"}, "office.error.visit_hours"),
    }
    with app_client(compound.services) as phone:
        for label, (change, key) in cases.items():
            # Refused attempts count against the address too; these are one person's tries.
            _forget_submissions(phone)
            answer = phone.post("/visit/", data=_form(**change))
            assert answer.status_code == 422, label
            expected = t("zh", key, field=t("zh", "office.field.name"), low=0.25, high=24.0)
            if key == "office.error.markup" and "reason" in change:
                expected = t("zh", key, field=t("zh", "office.field.reason"))
            assert html.escape(expected, quote=False) in answer.text, label
            assert "<script>alert(1)</script>" not in answer.text
        _forget_submissions(phone)
        huge = phone.post("/visit/", data=_form(name="王" * 10_000))
        assert huge.status_code == 422
        too_long = t(
            "zh", "office.error.too_long", field=t("zh", "office.field.name"), limit=MAX_NAME
        )
        assert html.escape(too_long, quote=False) in huge.text  # its own words, not "bad input"
        assert 'value="139 0000 5678"' in huge.text  # the rest of the form is kept
        bad_number = phone.post("/visit/", data=_form(number="110101199003070000"))
        assert bad_number.status_code == 422
    assert _visitors(compound) == 0


def test_a_flood_from_one_address_is_throttled_with_a_clear_message(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        for _ in range(5):
            _register(phone)
        flooded = phone.post("/visit/", data=_form())
        assert flooded.status_code == 429
        assert "提交过于频繁" in flooded.text
        assert phone.get("/healthz").status_code == 200  # the service is unaffected
    assert _visitors(compound) == 5


def test_the_poster_is_an_office_page_with_the_form_link(office: TestClient) -> None:
    page = office.get("/office/poster")
    assert page.status_code == 200
    assert re.search(r'data-qr-text="http://testserver/visit/"', page.text)


def test_an_unknown_status_or_host_code_is_refused(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        assert phone.get("/visit/status/nope/json").status_code == 404
        assert phone.get("/visit/host/nope").status_code == 404


def test_phone_registered_visits_are_deleted_after_their_retention(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        for _ in range(3):
            _register(phone)
    with compound.services.database.session() as session:
        old, confirmed, fresh = session.scalars(select(Visitor).order_by(Visitor.id)).all()
        long_ago = datetime.now(UTC) - timedelta(days=RETENTION_DAYS + 1)
        old.registered_at = long_ago  # pending, never decided
        confirmed.status, confirmed.ends_at = "confirmed", long_ago + timedelta(hours=2)
        confirmed.registered_at = long_ago
        fresh_ref = fresh.ref
        session.commit()
    actor = Actor(name="gate-upkeep", origin="service", at=datetime.now(UTC))
    assert purge_old_requests(actor=actor, units=compound.services.units) == 2
    assert purge_old_requests(actor=actor, units=compound.services.units) == 0
    with compound.services.database.session() as session:
        assert [v.ref for v in session.scalars(select(Visitor))] == [fresh_ref]
