"""Store-and-forward, the edge's side: passages pushed to a hub in order, once, whatever the outage.

Most tests use a hub emulator, a real HTTP server in a thread that keeps the hub
protocol (``docs/hub.md``): items stored by ``uuid``, ``409 {"expected_after"}`` for a
gap, ``GET /api/v1/ingest/cursor``; it can be "down" (nobody listens on the port), lose
rows, or refuse a post, which the real hub cannot be made to do on cue. One test pushes
10,000 passages to the real hub (``gate serve`` in hub mode on a database of its own)
that starts only after they were made.
"""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.outbound.upstream import UpstreamSink
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.app.outbound import OutboundRelay
from gate.app.sync_status import LagWatch, relay_lags
from gate.domain.backoff import Backoff
from gate.domain.roles import Role
from gate.runtime.bootstrap import Gate, Services, bootstrap, build_gate, build_station
from gate.runtime.settings import Settings, load_settings
from registry.database import Database
from tests.e2e.conftest import CHROMIUM, live_server, populate
from tests.e2e.test_browser import SCREENSHOTS, LiveGate, signed_in_page
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_events_out import compound, free_port, passages, wait_for
from tests.e2e.test_serve import _get_json, gate_env
from tests.gate.app.staff_builders import add_staff

KEY = "gk_test_hub_key_for_this_compound"


class HubState:
    """What the emulated hub holds for one compound: items by uuid, in arrival order."""

    def __init__(self, compound_id: str) -> None:
        self.compound_id = compound_id
        self.items: dict[str, dict[str, Any]] = {}
        self.last_seq = 0
        self.posts = 0
        self.duplicates = 0
        self.refuse_next = 0  # answer 503 to this many posts
        self.lock = threading.Lock()


def handler_for(state: HubState) -> type[http.server.BaseHTTPRequestHandler]:
    class Hub(http.server.BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = orjson.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            if self.headers["Authorization"] != f"Bearer {KEY}":
                return self._answer(401, {"detail": "no key"})
            if url.path != "/api/v1/ingest/cursor" or query["compound_id"] != [state.compound_id]:
                return self._answer(404, {})
            return self._answer(200, {"compound_id": state.compound_id, "last_seq": state.last_seq})

        def do_POST(self) -> None:
            body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.headers["Authorization"] != f"Bearer {KEY}":
                return self._answer(401, {"detail": "no key"})
            with state.lock:
                state.posts += 1
                if state.refuse_next > 0:
                    state.refuse_next -= 1
                    return self._answer(503, {"detail": "busy"})
                if body["compound_id"] != state.compound_id:
                    return self._answer(403, {"detail": "not your compound"})
                items = body["items"]
                if items[0]["seq"] > state.last_seq + 1:
                    return self._answer(409, {"expected_after": state.last_seq})
                accepted = 0
                for item in items:
                    if item["uuid"] in state.items:
                        state.duplicates += 1
                        continue
                    state.items[item["uuid"]] = item
                    state.last_seq = max(state.last_seq, item["seq"])
                    accepted += 1
            return self._answer(
                200,
                {
                    "accepted": accepted,
                    "duplicates": len(items) - accepted,
                    "acknowledged_seq": items[-1]["seq"],
                },
            )

        def log_message(self, *_args: Any) -> None:
            pass

    return Hub


@contextmanager
def hub_running(state: HubState, port: int) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler_for(state))
    thread = threading.Thread(target=server.serve_forever, name="hub-emulator")
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def upstream_relay(
    services: Services,
    url: str,
    code: str,
    *,
    batch: int = 500,
    sink: UpstreamSink | None = None,
) -> OutboundRelay:
    sink = sink or UpstreamSink(url=url, key=KEY, compound=code, timeout=5)
    where = compound()
    return OutboundRelay(
        sink=sink,
        reader=services.feed,
        cursors=services.delivery_cursors,
        compound=type(where)(code=code, name=where.name, province=where.province),
        pseudonym=services.pseudonym,
        head=sink.hub_cursor,
        clock=lambda: datetime.now(UTC),
        batch=batch,
        poll_seconds=0.2,
        backoff=Backoff(first=0.1, cap=0.5),
    )


@pytest.fixture
def gate(services: Services) -> Gate:
    populate(services)
    return build_gate(services)


def bulk_passages(gate: Gate, count: int) -> list[int]:
    return passages(gate, count)


@pytest.mark.slow
def test_the_hub_down_while_passages_are_made_then_back_gets_all_once_in_order(
    services: Services, gate: Gate
) -> None:
    code = compound().code
    state = HubState(code)
    port = free_port()
    relay = upstream_relay(services, f"http://127.0.0.1:{port}", code)
    gate.events.subscribe(relay.on_event)
    relay.start()  # the hub is down: the start point is asked again and again
    try:
        made = bulk_passages(gate, 600)  # every passage is made while the hub is away
        wait_for(lambda: relay.state.failures >= 2)
        lags = relay_lags(cursors=services.delivery_cursors, passages=services.passages)
        assert [lag.name for lag in lags] == []  # never connected: no cursor yet
        # ... which counts as the whole log behind where a hub is expected.
        (never,) = relay_lags(
            cursors=services.delivery_cursors, passages=services.passages, expected=["upstream"]
        )
        assert (never.cursor, never.behind, never.moved_at) == (0, len(made), None)
        with hub_running(state, port):
            wait_for(lambda: state.last_seq == made[-1], timeout=60)
            wait_for(lambda: relay.state.cursor == made[-1])
    finally:
        relay.stop()
    stored = list(state.items.values())
    assert [item["seq"] for item in stored] == made  # in order, each once
    assert state.duplicates == 0
    assert {item["compound_id"] for item in stored} == {code}
    (lag,) = relay_lags(cursors=services.delivery_cursors, passages=services.passages)
    assert (lag.name, lag.behind, lag.oldest_pending_at) == ("upstream", 0, None)


def test_a_gap_at_the_hub_rewinds_the_edge_and_a_refused_post_is_sent_again(
    services: Services, gate: Gate
) -> None:
    code = compound().code
    state = HubState(code)
    port = free_port()
    with hub_running(state, port) as url:
        relay = upstream_relay(services, url, code, batch=10)
        relay.start()
        try:
            made = bulk_passages(gate, 25)
            wait_for(lambda: state.last_seq == made[-1])
            # The hub loses its last 12 (restored from a backup); then it is busy once.
            with state.lock:
                for item in list(state.items.values())[-12:]:
                    del state.items[item["uuid"]]
                state.last_seq = made[-13]
                state.refuse_next = 1
            more = bulk_passages(gate, 5)  # the relay's poll picks them up
            wait_for(lambda: state.last_seq == more[-1])
        finally:
            relay.stop()
    assert [item["seq"] for item in state.items.values()] == made[:-12] + made[-12:] + more


def test_items_sent_long_after_their_passage_are_flagged_replayed(
    services: Services, gate: Gate
) -> None:
    code = compound().code
    state = HubState(code)
    with hub_running(state, free_port()) as url:
        sink = UpstreamSink(url=url, key=KEY, compound=code)
        item = {
            "uuid": "u-1",
            "seq": 1,
            "lane": "main",
            "at_utc": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        }
        fresh = {**item, "uuid": "u-2", "seq": 2, "at_utc": datetime.now(UTC).isoformat()}
        assert sink.deliver([item, fresh]) == 2
    assert [stored["replayed"] for stored in state.items.values()] == [True, False]


def test_the_lag_watch_warns_once_past_its_threshold(
    services: Services, gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    made = bulk_passages(gate, 3)
    services.delivery_cursors.save("upstream", made[0])
    watch = LagWatch(
        threshold=timedelta(minutes=5),
        cursors=services.delivery_cursors,
        passages=services.passages,
    )
    later = datetime.now(UTC) + timedelta(minutes=10)
    with caplog.at_level("INFO", logger="gate.app.sync_status"):
        first = watch.check(later)
        watch.check(later)
        services.delivery_cursors.save("upstream", made[-1])
        caught_up = watch.check(later)
    assert first is not None
    assert first.behind == 2
    assert caught_up is not None
    assert caught_up.behind == 0
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "2 passages behind" in warnings[0].getMessage()
    assert any("caught up" in r.getMessage() for r in caplog.records)


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gate", "serve", "--port", str(port)],
        env={**env, "GATE_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_the_edge_killed_mid_push_and_restarted_loses_nothing_and_doubles_nothing(
    services: Services, gate: Gate, tmp_path: Path
) -> None:
    """``gate serve`` pushing a backlog is killed (SIGKILL) and started again."""
    made = bulk_passages(gate, 1500)
    code = services.settings.compound.code
    state = HubState(code)
    key_file = tmp_path / "hub.key"
    key_file.write_text(KEY)
    hub_port = free_port()
    env = {
        **env_of(services),
        "GATE_UPSTREAM__URL": f"http://127.0.0.1:{hub_port}",
        "GATE_UPSTREAM__KEY_FILE": str(key_file),
        "GATE_UPSTREAM__BATCH": "50",
    }
    with hub_running(state, hub_port):
        edge = serve(env, free_port())
        try:
            wait_for(lambda: len(state.items) >= 400, timeout=120)
        finally:
            edge.send_signal(signal.SIGKILL)
            edge.wait(timeout=30)
        held = len(state.items)
        assert held < len(made)  # it was killed in the middle of the backlog
        edge = serve(env, free_port())
        try:
            wait_for(lambda: state.last_seq == made[-1], timeout=180)
        finally:
            edge.terminate()
            edge.wait(timeout=30)
    assert [item["seq"] for item in state.items.values()] == made  # each once, in order
    status = subprocess.run(
        [sys.executable, "-m", "gate", "sync", "status", "--json", "--no-ask-hub"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (relay,) = json.loads(status.stdout)["relays"]
    assert (relay["name"], relay["cursor"], relay["behind"]) == ("upstream", made[-1], 0)


@pytest.fixture
def unreachable_hub(settings: Settings, tmp_path: Path) -> Iterator[Services]:
    """A populated gate whose hub nobody answers for, warning after 0.5 s; guard ``guard1``."""
    key_file = tmp_path / "hub.key"
    key_file.write_text(KEY)
    configured = load_settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        secrets={"key_file": settings.secrets.key_file},
        upstream={
            "url": f"http://127.0.0.1:{free_port()}",  # nobody listens: the hub is down
            "key_file": str(key_file),
            "lag_warning_seconds": 0.5,
        },
    )
    services = bootstrap(configured)
    try:
        populate(services)
        add_staff(services, "guard1", Role.GUARD, "guard-password", name="王师傅", pin="1234")
        yield services
    finally:
        services.close()


def test_the_terminal_warns_when_the_hub_falls_behind(unreachable_hub: Services) -> None:
    services = unreachable_hub
    with TestClient(create_app(services, build_station(services))) as client:
        client.post("/login", data={"username": "guard1", "password": "guard-password"})
        assert client.get("/terminal/state").json()["header"]["upstream"] is None
        made = bulk_passages(build_gate(services), 3)
        time.sleep(0.6)
        header = client.get("/terminal/state").json()["header"]
    assert header["upstream"]["behind"] == len(made)
    assert header["upstream"]["text"].startswith("向区平台上传滞后：3 条未上传")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_the_guard_sees_the_hub_warning_in_the_header(
    browser: object, unreachable_hub: Services
) -> None:
    services = unreachable_hub
    bulk_passages(build_gate(services), 4)
    time.sleep(0.6)
    station = build_station(services)
    with live_server(create_app(services, station), "live-hub-warning") as url:
        page = signed_in_page(browser, LiveGate(url, services, station))
        page.wait_for_selector("#upstream:not([hidden])", timeout=10_000)  # type: ignore[attr-defined]
        text = page.inner_text("#upstream")  # type: ignore[attr-defined]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "terminal-hub-late.png"))  # type: ignore[attr-defined]
        page.close()  # type: ignore[attr-defined]
    assert text.startswith("向区平台上传滞后：4 条未上传")


@dataclass(frozen=True)
class RealHub:
    """A hub database of its own, its keys, and the environment ``gate serve`` runs it with."""

    url: str
    push_key: str
    read_key: str
    env: dict[str, str]


def real_hub(tmp_path: Path, key_file: Path, compound_id: str) -> RealHub:
    """Migrate a hub database and make a push and a read key bound to ``compound_id``."""
    database_url = f"sqlite:///{tmp_path / 'hub.db'}"
    Database(database_url).upgrade()
    hub = bootstrap(
        load_settings(
            data_dir=tmp_path / "hub", database_url=database_url, secrets={"key_file": key_file}
        )
    )
    actor = Actor("operator", "cli@test", datetime.now(UTC))
    try:
        push = CreateApiKey("edge", ("passages:push",), compounds=(compound_id,))
        read = CreateApiKey("district", ("passages:read",), compounds=(compound_id,))
        push_key = create_api_key(push, actor=actor, units=hub.units).text
        read_key = create_api_key(read, actor=actor, units=hub.units).text
    finally:
        hub.close()
    env = gate_env(tmp_path / "hubroot", database_url)
    env.update(
        GATE_SECRETS__KEY_FILE=str(key_file),
        # The chain key the bootstrap above recorded for the hub's log (docs/reliability.md).
        GATE_LOG__CHAIN_KEY_FILE=str(tmp_path / "hub" / "log-keys" / "chain.key"),
        GATE_HUB__ENABLED="true",
        GATE_API__REQUESTS_PER_MINUTE="100000",
    )
    return RealHub(database_url, push_key, read_key, env)


def hub_feed(url: str, key: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - localhost
        f"{url}/api/v1/passages?limit=100000",
        headers={"Authorization": f"Bearer {key}", "Accept": "application/x-ndjson"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - localhost
        return [orjson.loads(line) for line in answer.read().splitlines() if line]


@pytest.mark.slow
def test_the_real_hub_down_while_10000_passages_are_made_then_back_gets_all_once_in_order(
    services: Services, gate: Gate, tmp_path: Path
) -> None:
    """The edge (either engine) pushing to ``gate serve`` in hub mode, which starts late."""
    code = services.settings.compound.code
    key_file = services.settings.secrets.key_file
    assert key_file is not None
    hub = real_hub(tmp_path, key_file, code)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sink = UpstreamSink(url=url, key=hub.push_key, compound=code)
    relay = upstream_relay(services, url, code, batch=1000, sink=sink)
    gate.events.subscribe(relay.on_event)
    relay.start()
    try:
        made = bulk_passages(gate, 10_000)  # the hub is down all along
        assert relay.state.delivered == 0
        server = serve(hub.env, port)
        try:
            _get_json(f"{url}/healthz", deadline=60)
            wait_for(lambda: relay.state.cursor == made[-1], timeout=300)
            items = hub_feed(url, hub.read_key)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        relay.stop()
    assert [item["seq"] for item in items] == made  # every passage once, in order
    assert len({item["uuid"] for item in items}) == len(made)
    assert {item["compound_id"] for item in items} == {code}


@pytest.mark.slow
def test_the_edge_killed_mid_push_to_the_real_hub_loses_nothing_and_doubles_nothing(
    services: Services, gate: Gate, tmp_path: Path
) -> None:
    """As above, with ``gate serve`` in hub mode as the hub: the hub's feed is the proof."""
    made = bulk_passages(gate, 3000)
    code = services.settings.compound.code
    key_file = services.settings.secrets.key_file
    assert key_file is not None
    hub = real_hub(tmp_path, key_file, code)
    hub_port = free_port()
    hub_url = f"http://127.0.0.1:{hub_port}"
    push_key_file = tmp_path / "push.key"
    push_key_file.write_text(hub.push_key)
    env = {
        **env_of(services),
        "GATE_UPSTREAM__URL": hub_url,
        "GATE_UPSTREAM__KEY_FILE": str(push_key_file),
        "GATE_UPSTREAM__BATCH": "100",
    }
    holds = UpstreamSink(url=hub_url, key=hub.push_key, compound=code).hub_cursor
    server = serve(hub.env, hub_port)
    try:
        _get_json(f"{hub_url}/healthz", deadline=60)
        edge = serve(env, free_port())
        try:
            wait_for(lambda: holds() >= 500, timeout=120)
        finally:
            edge.send_signal(signal.SIGKILL)
            edge.wait(timeout=30)
        assert holds() < made[-1]  # killed in the middle of the backlog
        edge = serve(env, free_port())
        try:
            wait_for(lambda: holds() == made[-1], timeout=300)
        finally:
            edge.terminate()
            edge.wait(timeout=30)
        items = hub_feed(hub_url, hub.read_key)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert [item["seq"] for item in items] == made  # each once, in order
    assert len({item["uuid"] for item in items}) == len(made)
