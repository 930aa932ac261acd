"""What a resident's phone does with its pass: invite a visitor, pass at a place code.

The phone proves who it is with the text its pass shows at that moment; the service
checks it with the gate's own pass check. An invite is a one-time pass the gate spends on
entry. A place code is the terminal's rotating QR for a lane without a scanner: the
phone sends its pass with the lane's token and the gate decides it like a scan.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.i18n import t
from gate.app.actor import Actor
from gate.app.place_codes import PlaceCodes
from gate.app.qr_passes import IssuePass, issue_pass
from gate.domain.errors import ActionRefused
from gate.domain.model import Credential, CredentialKind, Direction
from gate.domain.passes import PassKind
from gate.runtime.bootstrap import build_gate
from registry.models import Passage
from tests.api.test_office_support import QUARANTINED, RESIDENT_A, Compound, app_client, sign_in


def _text(compound: Compound, subject: str, kind: PassKind = PassKind.RESIDENT) -> str:
    actor = Actor(name="office", origin="test", at=datetime.now(UTC))
    issued = issue_pass(
        IssuePass(kind, subject),
        actor=actor,
        units=compound.services.units,
        signer=compound.services.pass_signer,
    )
    return issued.signed.text_at(datetime.now(UTC))


def test_a_resident_invites_a_visitor_and_the_gate_lets_them_in_once(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        answer = phone.post(
            "/pass/invite",
            json={"pass_text": _text(compound, RESIDENT_A), "visitor_name": "赵六", "hours": 4},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        link = urlsplit(answer.json()["link"])
        assert link.path == "/visit/pass"
        fragment = parse_qs(link.fragment)
        assert fragment["name"] == ["赵*"]
        page = phone.get("/visit/pass")
        assert page.status_code == 200
        assert "赵六" not in page.text  # the page draws it from the fragment, not the server
    text = fragment["t"][0]
    gate = build_gate(compound.services)
    credential = Credential(CredentialKind.QR_PASS, code=text)
    first = gate.pipeline.process(credential, lane="main", direction=Direction.IN)
    assert first.decision.outcome.value == "allow"
    assert first.decision.reasons[-1].params["kind"] == "invite"
    again = gate.pipeline.process(credential, lane="main", direction=Direction.IN)
    assert again.decision.reason_codes == ("pass_replayed",)


def test_only_a_valid_resident_pass_may_invite(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        forged = phone.post(
            "/pass/invite", json={"pass_text": "NOT A PASS", "visitor_name": "赵六", "hours": 4}
        )
        assert forged.status_code == 422
        assert forged.json()["detail"].startswith("住户通行码无效")
        invite = _text(compound, RESIDENT_A, PassKind.RESIDENT)
        too_long = phone.post(
            "/pass/invite", json={"pass_text": invite, "visitor_name": "赵六", "hours": 24 * 7}
        )
        assert too_long.status_code == 200  # a week is the longest invite
        nameless = phone.post(
            "/pass/invite", json={"pass_text": invite, "visitor_name": " ", "hours": 2}
        )
        assert nameless.status_code == 422
        assert nameless.json()["detail"] == t("zh", "office.error.pass_visitor_name", limit=100)


def _place_token(client: TestClient) -> tuple[str, str]:
    """The lane and token of the terminal's place code, as a guard's screen gets them."""
    sign_in(client, "guard")
    codes = client.get("/terminal/place-codes").json()["codes"]
    client.cookies.clear()  # from here on the client is a resident's phone
    assert [code["lane"] for code in codes] == ["main"]
    query = parse_qs(urlsplit(codes[0]["url"]).query)
    return query["lane"][0], query["t"][0]


def test_a_place_code_records_the_passage_the_phone_sends(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        # The place code is of the process that serves the phone: the same app here.
        lane, guard_token = _place_token(phone)
        assert lane == "main"
        assert len(guard_token) == 16
        page = phone.get(f"/pass/here?lane=main&t={guard_token}")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        answer = phone.post(
            "/pass/here",
            json={"lane": "main", "token": guard_token, "pass_text": _text(compound, RESIDENT_A)},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["outcome"] == "allow"
        assert body["seq"] is not None
        quarantined = phone.post(
            "/pass/here",
            json={"lane": "main", "token": guard_token, "pass_text": _text(compound, QUARANTINED)},
        )
        assert quarantined.json()["outcome"] == "allow"  # lane "main" is an entrance
        wrong_lane = phone.post(
            "/pass/here",
            json={"lane": "side", "token": guard_token, "pass_text": _text(compound, RESIDENT_A)},
        )
        assert wrong_lane.status_code == 403
        assert wrong_lane.json()["detail"] == t("zh", "office.error.place_code")
        forged = phone.post(
            "/pass/here",
            json={"lane": "main", "token": "x" * 16, "pass_text": _text(compound, RESIDENT_A)},
        )
        assert forged.status_code == 403
    with compound.services.database.session() as session:
        rows = session.scalars(select(Passage).order_by(Passage.seq)).all()
    assert [(row.lane, row.credential_kind) for row in rows] == [("main", "qr_pass")] * 2


def test_a_place_token_lasts_three_steps_and_names_its_lane() -> None:
    codes = PlaceCodes(b"k" * 32)
    moment = datetime(2026, 12, 1, 8, 0, 5, tzinfo=UTC)
    token = codes.code("in", moment).token
    codes.check(token, "in", moment + timedelta(seconds=60))  # two steps later: still good
    with pytest.raises(ActionRefused) as late:
        codes.check(token, "in", moment + timedelta(seconds=95))
    assert late.value.code == "place_code"
    with pytest.raises(ActionRefused):
        codes.check(token, "out", moment)
    with pytest.raises(ActionRefused):
        PlaceCodes(b"j" * 32).check(token, "in", moment)  # another process's key
    assert codes.code("in", moment).renew_at == datetime(2026, 12, 1, 8, 0, 30, tzinfo=UTC)


def test_a_phone_hammering_the_pass_actions_is_slowed_down(compound: Compound) -> None:
    with app_client(compound.services) as phone:
        answers = [
            phone.post("/pass/here", json={"lane": "main", "token": "x", "pass_text": "y"})
            for _ in range(21)
        ]
        assert {a.status_code for a in answers[:20]} == {403}
        assert answers[20].status_code == 429
        assert "提交过于频繁" in answers[20].json()["detail"]
        assert phone.get("/healthz").status_code == 200
