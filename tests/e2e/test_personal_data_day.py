"""A simulated day, then every place data goes scanned for personal data: none there.

The demo compound is seeded (document numbers and mobile numbers of every resident), three
residents enrol face templates, a visitor registers from the poster with a phone, and a
day is played through the real pipeline with the MQTT relay delivering it to a broker of
the test's own. Then the database (the SQLite file and its journal, or a ``pg_dump``), every
log record of the day, the exports (registry CSV and XLSX, the shift and daily reports'
XLSX, the audit CSV), the API's answers (the feed in every format and profile with masked
documents, the traces, the daily report, counts) and staff pages (terminal, office person
pages, reports), and every MQTT message are searched for any whole document number, any
phone number and any face template (raw, hex or base64): zero found. The registry export
with ``reveal=1`` (full numbers, for the roles allowed to ask, audited) is the control that
the search finds what it looks for.
"""

from __future__ import annotations

import base64
import io
import logging
import re
import subprocess
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from api.app import create_app
from api.outbound.mqtt import MqttSink
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.app.visit_requests import VisitForm, request_visit
from gate.domain.documents import DocumentType
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services
from registry.demo import generate_demo
from registry.models import Person
from tests.e2e.test_events_out import Subscriber, compound, free_port, mosquitto, relay_for
from tests.e2e.test_events_out import wait_for as wait_until
from tests.e2e.test_simulate import DAY, play, seed
from tests.gate.app.staff_builders import add_staff
from tests.registry.test_face_store import enrol, template

pytestmark = pytest.mark.slow

VISITOR_NUMBER = "110101199003077774"
VISITOR_PHONE = "13912345678"
PASSWORD = "personal-data-1"


class Needles:
    """What must not appear: every whole document number, phone number, face template.

    Numbers are looked for as runs of digits and capital letters (UTF-8 and UTF-16), each
    window of a needle's length checked against the set: one pass over the data whatever
    the number of needles. A number inside a longer run is found too.
    """

    RUN = re.compile(rb"[0-9A-Z]{8,}")
    RUN_UTF16 = re.compile(rb"(?:[0-9A-Z]\x00){8,}")

    def __init__(self, texts: Iterable[str], templates: Iterable[bytes]) -> None:
        self.texts = sorted({text for text in texts if text})
        self._numbers = {text.encode() for text in self.texts}
        self._lengths = sorted({len(text) for text in self._numbers})
        self.templates = list(templates)
        self._blobs = [
            form
            for raw in self.templates
            for form in (raw, raw.hex().encode(), base64.b64encode(raw), raw[:64])
        ]

    def found(self, data: bytes) -> list[str]:
        """The needles in ``data`` (and, for a zip such as an XLSX, in each member)."""
        runs = [match.group() for match in self.RUN.finditer(data)]
        runs += [match.group()[::2] for match in self.RUN_UTF16.finditer(data)]
        runs += [match.group()[::2] for match in self.RUN_UTF16.finditer(data[1:])]
        hits = [
            run[start : start + length].decode()
            for run in runs
            for length in self._lengths
            for start in range(len(run) - length + 1)
            if run[start : start + length] in self._numbers
        ]
        hits += [f"template {blob[:8].hex()}" for blob in self._blobs if blob in data]
        if data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    hits += self.found(archive.read(name))
        return hits


class Records(logging.Handler):
    """Every log record of the day, formatted with its traceback, at DEBUG and above."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The test's HTTP client logs the URLs it asks (a trace by document has the number
        # in its query): that is the district's side, not this service's log.
        if not record.name.startswith("httpx"):
            self.lines.append(self.format(record))


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def database_bytes(services: Services, tmp_path: Path) -> dict[str, bytes]:
    """The database as stored: the SQLite file and its journal, or a plain ``pg_dump``."""
    url = make_url(services.database.engine.url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        return {
            found.name: found.read_bytes()
            for found in (path, path.with_name(path.name + "-wal"))
            if found.exists()
        }
    dump = subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            str(url.host),
            "-p",
            str(url.port or 5432),
            "-U",
            str(url.username),
            str(url.database),
        ],
        capture_output=True,
        check=True,
        timeout=120,
        env={"PGPASSWORD": url.password or "", "PATH": "/usr/bin:/bin"},
    )
    return {"pg_dump": dump.stdout}


def sign_in(client: TestClient, username: str) -> None:
    answer = client.post("/login", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 303, answer.text


def test_a_simulated_day_leaves_no_personal_data_anywhere(
    services: Services, records: Records, tmp_path: Path
) -> None:
    demo = generate_demo(seed=2020, today=DAY)
    seed(services)
    with services.database.session() as session:
        refs = list(session.scalars(select(Person.ref).order_by(Person.id).limit(3)))
    for index, ref in enumerate(refs):
        enrol(services, ref, 100 + index)
    actor = Actor("tester", "test", datetime.now(UTC))
    first_home = next(person for person in demo.persons if person.building)
    form = VisitForm(
        "钱七",
        VISITOR_PHONE,
        DocumentType.RESIDENT_ID,
        VISITOR_NUMBER,
        f"{first_home.building}-{first_home.unit}-{first_home.room}",
        "送货",
        2,
    )
    request_visit(form, actor=actor, units=services.units)
    needles = Needles(
        [person.doc_number for person in demo.persons]
        + [person.phone or "" for person in demo.persons]
        + [VISITOR_NUMBER, VISITOR_PHONE],
        [template(100 + index) for index in range(len(refs))],
    )
    assert len(needles.texts) > 500

    # The day, delivered over MQTT as it is played.
    port = free_port()
    where = compound()
    with mosquitto(port):
        subscriber = Subscriber(port, f"gate/{where.code}/#")
        sink = MqttSink(host="127.0.0.1", port=port, compound=where.code)
        relay = relay_for(services, sink, where, batch=500)
        relay.start()
        try:
            _plan, tally = play(services, scale=0.05)
            assert tally.passages > 100
            last = services.passages.tail(1)[-1].seq
            wait_until(lambda: relay.state.cursor == last, timeout=120)
            wait_until(lambda: len(subscriber.messages) >= tally.passages, timeout=60)
        finally:
            relay.stop()
            subscriber.close()
    mqtt_messages = [bytes(message.payload) for message in subscriber.messages]

    # What leaves through the web app and the API.
    add_staff(services, "admin", Role.ADMIN, PASSWORD)
    feed_key = create_api_key(
        CreateApiKey(
            "district",
            ("passages:read", "passages:read-masked-documents", "trace:read", "reports:read"),
        ),
        actor=actor,
        units=services.units,
    ).text
    bearer = {"Authorization": f"Bearer {feed_key}"}
    day = DAY.isoformat()
    answers: dict[str, bytes] = {}
    with TestClient(create_app(services), follow_redirects=False) as client:
        for accept in ("application/json", "application/x-ndjson", "text/csv"):
            for profile in ("standard", "viid"):
                answer = client.get(
                    "/api/v1/passages",
                    params={"limit": 5000 if accept != "application/x-ndjson" else 100000,
                            "profile": profile},
                    headers={**bearer, "Accept": accept},
                )  # fmt: skip
                assert answer.status_code == 200, answer.text
                answers[f"feed {accept} {profile}"] = answer.content
        trace = {"from": day, "to": day, "purpose": "personal-data scan"}
        for path, params in (
            ("/api/v1/trace/window", trace),
            ("/api/v1/trace/person", {**trace, "document": demo.persons[0].doc_number}),
            ("/api/v1/reports/daily", {"date": day}),
        ):
            answer = client.get(path, params=params, headers=bearer)
            assert answer.status_code == 200, (path, answer.text)
            answers[path] = answer.content
        sign_in(client, "admin")
        pages = [
            ("/office/export", {"format": "csv", "reveal": "0"}),
            ("/office/export", {"format": "xlsx", "reveal": "0"}),
            ("/report.xlsx", {"start": f"{day}T00:00", "end": f"{day}T23:59"}),
            ("/report", {"start": f"{day}T00:00", "end": f"{day}T23:59"}),
            ("/report/daily.xlsx", {"date": day}),
            ("/report/daily", {"date": day}),
            ("/audit.csv", {}),
            ("/audit", {}),
            ("/terminal", {}),
            ("/api/v1/registry/stats", {}),
            ("/office", {}),
            ("/metrics", {}),
        ] + [(f"/office/persons/{ref}", {}) for ref in refs]
        for path, params in pages:
            answer = client.get(path, params=params)
            assert answer.status_code == 200, (path, params, answer.status_code)
            answers[f"{path} {params}"] = answer.content
        revealed = client.get("/office/export", params={"format": "csv", "reveal": "1"})
        assert revealed.status_code == 200

    services.close()
    stored = database_bytes(services, tmp_path)

    # The control: the revealed export holds the numbers, and the search finds them.
    assert len(set(needles.found(revealed.content))) > 100
    corpora = {
        **{f"database {name}": data for name, data in stored.items()},
        "log": "\n".join(records.lines).encode(),
        **{f"mqtt {index}": payload for index, payload in enumerate(mqtt_messages)},
        **answers,
    }
    assert len(records.lines) > 50
    assert len(mqtt_messages) >= tally.passages
    assert sum(len(data) for data in stored.values()) > 1_000_000
    found = {name: hits for name, data in corpora.items() if (hits := needles.found(data))}
    print(
        f"{len(needles.texts)} numbers and {len(needles.templates)} templates searched in "
        f"{sum(len(data) for data in stored.values())} bytes of database, "
        f"{len(records.lines)} log records, {len(mqtt_messages)} MQTT messages, "
        f"{len(answers)} answers ({sum(len(data) for data in answers.values())} bytes) "
        f"after {tally.passages} passages: {sum(len(hits) for hits in found.values())} found"
    )
    assert found == {}
    assert date.fromisoformat(day) == DAY
