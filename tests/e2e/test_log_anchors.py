"""The passage log against someone who can write the database (issue 13, defect 1).

Each of these passed as "passage log intact" before the chain was keyed and anchored: a
log cut back with its head moved to the new last row, a REVIEW turned into an ALLOW with
the chain recomputed by the project's own (unkeyed) hash functions, and a chain key gone
or swapped. Both engines; ``gate log verify`` as the operator runs it.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Table, bindparam, select, text, update

from api.outbound.upstream import ANCHOR_HEADER, UpstreamSink
from gate.domain.anchors import parse_anchor
from gate.domain.hashchain import row_digest
from gate.domain.model import Direction, Outcome
from gate.runtime.log_keys import anchor_file_path, chain_key_path
from registry.database import Database
from registry.models import Passage, PassageChain
from registry.passages import hashed_content
from tests.e2e.conftest import OUTSIDER, QUARANTINED, RESIDENT_A, RESIDENT_B, GateUnderTest
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import gate

_passages: Table = Passage.__table__  # type: ignore[assignment]
_chain: Table = PassageChain.__table__  # type: ignore[assignment]


def five_passages(under_test: GateUnderTest) -> int:
    """Five rows, the third a REVIEW (an expired card); the seq of the REVIEW."""
    under_test.card(RESIDENT_A, Direction.OUT)
    under_test.card(RESIDENT_B, Direction.OUT)
    review = under_test.card(RESIDENT_A, Direction.IN, valid_to=date(2026, 1, 1))
    assert review.decision.outcome is Outcome.REVIEW
    assert review.record is not None
    under_test.card(QUARANTINED, Direction.OUT)
    under_test.card(OUTSIDER, Direction.IN)
    return review.record.seq


def cut_back_to(database: Database, last: int) -> None:
    """Delete the rows after ``last`` and move the head there: what a careful culprit does."""
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM passages WHERE seq > :last"), {"last": last})
        head = connection.execute(
            text("SELECT row_hash FROM passages WHERE seq = :last"), {"last": last}
        ).scalar_one()
        connection.execute(
            text("UPDATE passage_chain SET last_seq = :last, last_hash = :head"),
            {"last": last, "head": head},
        )


def launder(database: Database, seq: int) -> None:
    """Turn the REVIEW at ``seq`` into an ALLOW and recompute the chain from it, unkeyed."""
    with database.engine.begin() as connection:
        connection.execute(
            update(_passages)
            .where(_passages.c.seq == seq)
            .values(outcome="allow", opens_barrier=True, alert="none")
        )
        prev_hash = connection.execute(
            select(_passages.c.prev_hash).where(_passages.c.seq == seq)
        ).scalar_one()
        rows = connection.execute(
            select(_passages).where(_passages.c.seq >= seq).order_by(_passages.c.seq)
        ).mappings()
        for row in list(rows):
            row_hash = row_digest(prev_hash, hashed_content({**row, "prev_hash": prev_hash}))
            connection.execute(
                update(_passages)
                .where(_passages.c.seq == bindparam("s"))
                .values(prev_hash=bindparam("p"), row_hash=bindparam("h")),
                {"s": row["seq"], "p": prev_hash, "h": row_hash},
            )
            prev_hash = row_hash
        connection.execute(update(_chain).where(_chain.c.id == 1).values(last_hash=prev_hash))


def test_a_log_cut_back_with_its_head_moved_is_named_against_the_anchor(
    gate_under_test: GateUnderTest,
) -> None:
    services = gate_under_test.services
    five_passages(gate_under_test)
    env = env_of(services)
    anchored = gate(env, "log", "anchor")
    assert anchored.returncode == 0, anchored.stderr
    assert "seq 5" in anchored.stdout
    intact = gate(env, "log", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "intact: 5 rows" in intact.stdout
    assert "matches anchor 2: seq 5" in intact.stdout
    cut_back_to(services.database, 3)
    broken = gate(env, "log", "verify")
    assert broken.returncode == 1, broken.stdout
    assert "log ends at seq 3 but anchor 2" in broken.stderr
    assert "says seq 5: rows 4-5 were removed" in broken.stderr
    # The service would not sign the shorter log over it.
    assert services.anchors.anchor_now(datetime.now(UTC)) is None


def test_a_review_laundered_into_an_allow_with_the_chain_recomputed_fails_at_that_row(
    gate_under_test: GateUnderTest,
) -> None:
    services = gate_under_test.services
    review = five_passages(gate_under_test)
    launder(services.database, review)
    env = env_of(services)
    broken = gate(env, "log", "verify")
    assert broken.returncode == 1, broken.stdout
    assert f"BROKEN at row {review}: content does not match its keyed hash" in broken.stderr
    # Moving the keyed chain's start past the end to pass every row off as old: the
    # anchors (signed at the switch-over) say where it starts.
    with services.database.engine.begin() as connection:
        connection.execute(update(_chain).values(keyed_from=99))
    moved = gate(env, "log", "verify")
    assert moved.returncode == 1
    assert "keyed chain starts at row 99 but anchor 1 says row 1" in moved.stderr


def test_a_missing_or_other_chain_key_is_refused_plainly(gate_under_test: GateUnderTest) -> None:
    services = gate_under_test.services
    gate_under_test.card(RESIDENT_A, Direction.OUT)
    env = env_of(services)
    path = chain_key_path(services.settings)
    assert path.stat().st_mode & 0o777 == 0o600
    original = path.read_bytes()
    path.unlink()
    missing = gate(env, "log", "verify")
    assert missing.returncode == 1
    assert "does not exist: restore that key file from the backup" in missing.stderr
    assert services.chain_key.key_id in missing.stderr
    assert "Traceback" not in missing.stderr
    assert not path.exists()  # not quietly replaced by a new key
    path.write_text(base64.b64encode(bytes(range(50, 82))).decode())
    path.chmod(0o600)
    other = gate(env, "log", "verify")
    assert other.returncode == 1
    assert f"but the passage log is keyed under {services.chain_key.key_id}" in other.stderr
    refused = gate(env, "passage", "--id-number", RESIDENT_B, "--direction", "out")
    assert refused.returncode == 1
    assert "restore the right key file" in refused.stderr
    path.write_bytes(original)
    assert gate(env, "log", "verify").returncode == 0


def test_the_latest_anchor_rides_with_the_feed_and_the_hub_push(
    gate_under_test: GateUnderTest,
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from gate.app.actor import Actor
    from gate.app.api_keys import CreateApiKey, create_api_key
    from gate.domain.api_scopes import ApiScope
    from gate.runtime.bootstrap import build_station

    services = gate_under_test.services
    five_passages(gate_under_test)
    written = services.anchors.anchor_now(datetime.now(UTC))
    assert written is not None
    lines = anchor_file_path(services.settings).read_text().splitlines()
    assert [parse_anchor(line).n for line in lines] == [1, 2]

    actor = Actor(name="admin", origin="test", at=datetime.now(UTC))
    created = create_api_key(
        CreateApiKey(name="district", scopes=(ApiScope.PASSAGES_READ,)),
        actor=actor,
        units=services.units,
    )
    with TestClient(create_app(services, build_station(services))) as client:
        answer = client.get("/api/v1/passages", headers={"Authorization": f"Bearer {created.text}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["items"]) == 5
    assert services.anchors.log.check(json.dumps(body["anchor"])) == written

    received: list[str | None] = []

    class Hub(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(self.headers[ANCHOR_HEADER])
            data = orjson.dumps({"accepted": 1, "duplicates": 0, "acknowledged_seq": 1})
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    thread = threading.Thread(target=server.serve_forever, name="hub-emulator")
    thread.start()
    try:
        sink = UpstreamSink(
            url=f"http://127.0.0.1:{server.server_port}",
            key="k",
            compound=services.settings.compound.code,
            anchor=services.anchors.log.latest_json,
        )
        sink.deliver([{"seq": 1, "at_utc": datetime.now(UTC).isoformat()}])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert len(received) == 1
    assert received[0] is not None
    assert services.anchors.log.check(received[0]) == written
