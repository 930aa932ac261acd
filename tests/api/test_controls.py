"""``PUT /api/v1/controls``: the district's control lists, idempotent by reference.

A registered person's row becomes a status period (through the office's status writer);
an unknown document becomes a watch entry that decides its first swipe at the gate; bad
rows are reported one by one and the others still apply; the same list twice changes
nothing the second time; every request is audited once; the scope is enforced.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from api.web.deps import LANG_COOKIE
from api.web.terminal import CONTROL_LINES
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.domain.documents import DocumentType
from gate.domain.model import (
    AlertLevel,
    Credential,
    CredentialKind,
    Direction,
    DocumentRead,
    Outcome,
)
from gate.domain.people import HealthStatus, mask_name
from gate.domain.status import local_date
from gate.runtime.bootstrap import Services, build_gate
from registry.models import AuditEvent, ControlEntry, Person, RegistryRevision, StatusRecord
from tests.api.test_office_support import NEWCOMER, RESIDENT_A, Compound, app_client, sign_in
from tests.e2e.conftest import OUTSIDER
from tests.registry.builders import resident_number

CONTROLS = "/api/v1/controls"


def key(services: Services, name: str, *scopes: str) -> dict[str, str]:
    actor = Actor(name="admin", origin="test", at=datetime.now(UTC))
    issued = create_api_key(CreateApiKey(name, scopes), actor=actor, units=services.units)
    return {"Authorization": f"Bearer {issued.text}"}


def today() -> str:
    return local_date(datetime.now(UTC)).isoformat()


def in_days(days: int) -> str:
    return (local_date(datetime.now(UTC)) + timedelta(days=days)).isoformat()


def the_list() -> list[dict[str, Any]]:
    return [
        {
            "document_number": RESIDENT_A,
            "status": "home_quarantine",
            "from": today(),
            "to": in_days(13),
            "basis": "区指挥部通告 2026-31",
            "reference": "XC-1",
        },
        {
            "document_number": NEWCOMER,
            "document_type": "resident_id",
            "status": "home_quarantine",
            "from": today(),
            "to": in_days(13),
            "basis": "区指挥部通告 2026-31",
            "reference": "XC-2",
        },
        {
            "document_number": "150102198001010000",
            "status": "key_person",
            "from": today(),
            "reference": "XC-3",
        },
        {"document_number": OUTSIDER, "status": "locked_up", "from": today(), "reference": "XC-4"},
        {
            "document_number": OUTSIDER,
            "status": "key_person",
            "from": "30 Nov",
            "reference": "XC-5",
        },
        {
            "document_number": OUTSIDER,
            "status": "key_person",
            "from": in_days(3),
            "to": in_days(1),
            "reference": "XC-6",
        },
    ]


def revision(services: Services) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(RegistryRevision.revision)) or 0)


def statuses_of(services: Services, person_ref: str) -> list[StatusRecord]:
    with services.database.session() as session:
        return list(
            session.scalars(
                select(StatusRecord)
                .join(Person)
                .where(Person.ref == person_ref)
                .order_by(StatusRecord.id)
            )
        )


def swipe(services: Services, number: str, direction: Direction = Direction.OUT) -> Any:
    gate = build_gate(services)
    credential = Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, number)
    )
    return gate.pipeline.process(credential, lane="main", direction=direction)


def test_a_list_applied_twice_changes_nothing_the_second_time(compound: Compound) -> None:
    services = compound.services
    headers = key(services, "district-controls", "controls:write")
    with app_client(services) as client:
        before = revision(services)
        first = client.put(CONTROLS, json={"items": the_list()}, headers=headers)
        assert first.status_code == 200, first.text
        after_first = revision(services)
        second = client.put(CONTROLS, json={"items": the_list()}, headers=headers)
        assert second.status_code == 200, second.text
    rows = first.json()["results"]
    assert [(r["reference"], r["result"], r["change"]) for r in rows[:2]] == [
        ("XC-1", "applied", "added"),
        ("XC-2", "watch", "added"),
    ]
    # Invalid rows say why, and the valid ones were applied all the same.
    assert [(r["result"], r["reason"]) for r in rows[2:]] == [
        ("invalid", "document"),
        ("invalid", "control_status"),
        ("invalid", "control_date"),
        ("invalid", "date_order"),
    ]
    assert rows[2]["document_reason"]
    assert rows[2]["detail"]
    assert first.json()["counts"] == {
        "rows": 6,
        "applied": 1,
        "watch": 1,
        "invalid": 4,
        "added": 2,
        "updated": 0,
        "cleared": 0,
        "unchanged": 0,
    }
    assert after_first == before + 1
    # The second time: the same answers, nothing changed, no reload for the gates.
    again = second.json()["results"]
    assert [(r["result"], r["change"]) for r in again[:2]] == [
        ("applied", "unchanged"),
        ("watch", "unchanged"),
    ]
    assert second.json()["counts"]["unchanged"] == 2
    assert revision(services) == after_first
    records = statuses_of(services, compound.wang)
    assert len(records) == 1
    assert records[0].status is HealthStatus.HOME_QUARANTINE
    assert "XC-1" in records[0].note
    with services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(ControlEntry)) == 2
        audits = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "controls.apply"))
        )
    assert len(audits) == 2  # once per request
    assert audits[0].actor == "district-controls"
    assert audits[0].detail["invalid"] == 4
    assert audits[1].detail["unchanged"] == 2
    assert RESIDENT_A not in str([a.detail for a in audits])
    # The applied status decides the resident's passages at once.
    refused = swipe(services, RESIDENT_A)
    assert refused.decision.outcome is Outcome.DENY
    assert "quarantine_no_exit" in [reason.code for reason in refused.decision.reasons]


def test_an_unknown_person_on_the_list_is_matched_at_first_swipe(compound: Compound) -> None:
    services = compound.services
    headers = key(services, "district-watch", "controls:write")
    with app_client(services) as client:
        answer = client.put(CONTROLS, json={"items": the_list()[1:2]}, headers=headers)
    assert answer.json()["results"][0]["result"] == "watch"
    result = swipe(services, NEWCOMER)
    decision = result.decision
    assert decision.outcome is Outcome.DENY
    assert decision.alert is AlertLevel.ALARM
    assert not result.barrier_opened
    assert decision.reasons[0].code == "district_watch"
    assert decision.reasons[0].params["reference"] == "XC-2"
    assert decision.reasons[0].params["status"] == "home_quarantine"
    assert result.record is not None
    assert result.record.entry.document_hash is not None
    # Coming in is an alarm too; an outsider not on the list is the usual review.
    inward = swipe(services, NEWCOMER, Direction.IN)
    assert inward.decision.reasons[0].code == "district_watch"
    other = swipe(services, OUTSIDER)
    assert other.decision.outcome is Outcome.REVIEW
    assert "district_watch" not in [reason.code for reason in other.decision.reasons]


def test_a_row_by_keyed_hash_watches_the_same_document(compound: Compound) -> None:
    services = compound.services
    headers = key(services, "district-hash", "controls:write")
    digest = services.cipher.lookup_hash("resident_id", OUTSIDER)
    row = {"document_hash": digest, "status": "key_person", "from": today(), "reference": "H-1"}
    with app_client(services) as client:
        answer = client.put(CONTROLS, json={"items": [row]}, headers=headers)
    assert answer.json()["results"][0]["result"] == "watch"
    decision = swipe(services, OUTSIDER).decision
    assert decision.outcome is Outcome.REVIEW
    assert decision.reasons[0].code == "district_watch"


def test_a_changed_row_updates_its_period_and_cleared_ends_it(compound: Compound) -> None:
    services = compound.services
    headers = key(services, "district-update", "controls:write")
    first, watch = the_list()[:2]
    with app_client(services) as client:
        client.put(CONTROLS, json={"items": [first, watch]}, headers=headers)
        longer = {**first, "to": in_days(20)}
        updated = client.put(CONTROLS, json={"items": [longer]}, headers=headers).json()
        assert updated["results"][0]["change"] == "updated"
        records = statuses_of(services, compound.wang)
        assert len(records) == 1  # the same period, changed
        clear = [
            {"document_number": RESIDENT_A, "status": "cleared", "reference": "XC-1-clear"},
            {"document_number": NEWCOMER, "status": "cleared", "reference": "XC-2-clear"},
        ]
        cleared = client.put(CONTROLS, json={"items": clear}, headers=headers).json()
        again = client.put(CONTROLS, json={"items": clear}, headers=headers).json()
    assert [(r["result"], r["change"]) for r in cleared["results"]] == [
        ("applied", "cleared"),
        ("watch", "cleared"),
    ]
    assert [r["change"] for r in again["results"]] == ["unchanged", "unchanged"]
    (record,) = statuses_of(services, compound.wang)
    assert record.ends_at is not None
    assert record.ends_at <= datetime.now(UTC)
    assert swipe(services, RESIDENT_A).decision.outcome is Outcome.ALLOW
    codes = [reason.code for reason in swipe(services, NEWCOMER).decision.reasons]
    assert "district_watch" not in codes


def test_the_scope_is_enforced(compound: Compound) -> None:
    services = compound.services
    feed_only = key(services, "district-feed", "passages:read")
    with app_client(services) as client:
        assert client.put(CONTROLS, json={"items": the_list()}).status_code == 401
        refused = client.put(CONTROLS, json={"items": the_list()}, headers=feed_only)
    assert refused.status_code == 403
    with services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(ControlEntry)) == 0


def test_an_empty_list_is_refused(compound: Compound) -> None:
    headers = key(compound.services, "district-empty", "controls:write")
    with app_client(compound.services) as client:
        answer = client.put(CONTROLS, json={"items": []}, headers=headers)
    assert answer.status_code == 422  # the schema asks for one row at least


def test_the_terminal_shows_what_a_list_changed(compound: Compound) -> None:
    """The guard's header lists each change of the last day: who (masked), home, status."""
    services = compound.services
    headers = key(services, "district-terminal", "controls:write")
    with app_client(services) as client:
        sign_in(client, "guard")
        quiet = client.get("/terminal/state").json()["header"]
        assert quiet["controls"] == []
        client.put(CONTROLS, json={"items": the_list()[:2]}, headers=headers)
        cleared = [{"document_number": RESIDENT_A, "status": "cleared", "reference": "XC-7"}]
        client.put(CONTROLS, json={"items": cleared}, headers=headers)
        header = client.get("/terminal/state").json()["header"]
        client.cookies.set(LANG_COOKIE, "en")
        english = client.get("/terminal/state").json()
    changes = header["controls"]
    assert header["controls_text"] == "区防控名单 24 小时内变更：3"
    # The latest first: the clearing row, then the watch entry and the applied status.
    assert [c["key"] for c in changes] == ["XC-7", "XC-2", "XC-1"]
    assert [c["status"] for c in changes] == ["解除", "居家隔离", "居家隔离"]
    applied = changes[2]
    assert applied["name"] == mask_name("王小明")
    assert applied["home"]
    assert changes[1]["name"] == "未登记人员（证件首次出现时拦截）"
    assert changes[1]["home"] == ""
    assert RESIDENT_A not in str(changes)
    assert NEWCOMER not in str(changes)
    assert english["header"]["controls"][1]["status"] == "home quarantine"


def test_a_long_list_shows_the_latest_changes_and_says_there_were_more(
    compound: Compound,
) -> None:
    services = compound.services
    headers = key(services, "district-long", "controls:write")
    rows = [
        {
            "document_number": resident_number("19900101", f"{index:03d}"),
            "status": "health_monitoring",
            "from": today(),
            "reference": f"LONG-{index}",
        }
        for index in range(CONTROL_LINES + 3)
    ]
    with app_client(services) as client:
        sign_in(client, "guard")
        assert client.put(CONTROLS, json={"items": rows}, headers=headers).status_code == 200
        header = client.get("/terminal/state").json()["header"]
    assert len(header["controls"]) == CONTROL_LINES
    assert header["controls_text"].endswith(f"{CONTROL_LINES}+")
