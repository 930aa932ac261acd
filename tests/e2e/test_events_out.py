"""Events out: passages and device status to a real MQTT broker and to a real webhook.

The MQTT tests talk to Mosquitto: the one listening on 127.0.0.1:1883 on the development
and CI machines, and, for a broker that goes down and comes back, one the test starts on
a port of its own. The webhook is a real HTTP server in a thread that checks signatures.
Each test uses a compound code of its own, so topics never mix between runs.
"""

from __future__ import annotations

import http.server
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from api.outbound.mqtt import MqttSink
from api.outbound.webhook import SIGNATURE_HEADER, WebhookSink, signature, verify_signature
from gate.app.district_feed import CompoundAddress, read_page
from gate.app.outbound import DeliveryFailed, OutboundRelay, OutboundSink
from gate.domain.backoff import Backoff
from gate.domain.device_ports import DeviceHealth, DeviceState, DeviceStatus
from gate.domain.documents import DocumentType
from gate.domain.errors import ConfigError
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.runtime.bootstrap import Gate, Services, bootstrap, build_gate, build_station
from gate.runtime.settings import Settings, load_settings
from registry.delivery_cursors import SqlCursorStore
from tests.e2e.conftest import OUTSIDER, RESIDENT_A, populate

BROKER = ("127.0.0.1", 1883)
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def broker_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Subscriber:
    """A real MQTT subscriber that keeps every message it gets."""

    def __init__(self, port: int, topic: str) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"test-{secrets.token_hex(4)}",
        )
        self._client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = lambda _client, _data, message: self.messages.append(message)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        assert self._subscribed.wait(10), "the subscription was not confirmed"

    def payloads(self) -> list[dict[str, Any]]:
        return [orjson.loads(message.payload) for message in self.messages]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@contextmanager
def mosquitto(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A broker of the test's own on ``port`` (localhost only, nothing kept)."""
    process = subprocess.Popen(
        [MOSQUITTO, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: broker_up("127.0.0.1", port), timeout=10)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def compound() -> CompoundAddress:
    code = f"t{secrets.token_hex(4)}"
    return CompoundAddress(code=code, name="如意小区", province="内蒙古自治区")


def relay_for(
    services: Services, sink: OutboundSink, where: CompoundAddress, *, batch: int = 50
) -> OutboundRelay:
    def head() -> int:
        last = services.passages.tail(1)
        return last[-1].seq if last else 0

    return OutboundRelay(
        sink=sink,
        reader=services.feed,
        cursors=SqlCursorStore(services.database),
        compound=where,
        pseudonym=services.pseudonym,
        head=head,
        clock=lambda: datetime.now(UTC),
        batch=batch,
        poll_seconds=0.2,
        backoff=Backoff(first=0.1, cap=0.5),
    )


def swipe(gate: Gate, number: str, direction: Direction = Direction.OUT) -> int:
    credential = Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, number)
    )
    result = gate.pipeline.process(credential, lane="main", direction=direction)
    assert result.record is not None
    return result.record.seq


def passages(gate: Gate, count: int) -> list[int]:
    """``count`` passages of a resident going out and in, and an outsider now and then."""
    seqs = []
    for index in range(count):
        number = OUTSIDER if index % 5 == 4 else RESIDENT_A
        seqs.append(swipe(gate, number, Direction.OUT if index % 2 == 0 else Direction.IN))
    return seqs


def feed_items(services: Services, where: CompoundAddress, after: int, count: int) -> list[Any]:
    page = read_page(
        f"v1.{after}",
        limit=count,
        reader=services.feed,
        compound=where,
        pseudonym=services.pseudonym,
    )
    return page.items


@pytest.fixture
def gate(services: Services) -> Gate:
    populate(services)
    return build_gate(services)


def lane_status(state: DeviceState) -> DeviceStatus:
    health = DeviceHealth(state, detail="" if state is DeviceState.OK else "no answer")
    return DeviceStatus("main", "id_reader", "main-id_reader", health, None)


@pytest.mark.skipif(not broker_up(*BROKER), reason="no MQTT broker on 127.0.0.1:1883")
def test_passages_arrive_at_a_real_subscriber_as_feed_items_and_device_status_is_retained(
    services: Services, gate: Gate
) -> None:
    where = compound()
    before = passages(gate, 2)  # made before the relay existed: not sent (it starts at now)
    subscriber = Subscriber(BROKER[1], f"gate/{where.code}/+/passage")
    sink = MqttSink(host=BROKER[0], port=BROKER[1], compound=where.code)
    relay = relay_for(services, sink, where)
    gate.events.subscribe(relay.on_event)
    relay.note_devices([lane_status(DeviceState.OFFLINE)], silent={("main", "id_reader")})
    relay.start()
    late: Subscriber | None = None
    try:
        wait_for(lambda: relay.state.cursor == before[-1])
        seqs = passages(gate, 6)
        wait_for(lambda: len(subscriber.messages) >= 6)
        time.sleep(0.3)  # anything doubled would arrive now
        # The same JSON as the feed's items, in log order, each once, on the lane's topic.
        assert subscriber.payloads() == feed_items(services, where, before[-1], 6)
        assert [item["seq"] for item in subscriber.payloads()] == seqs
        assert {m.topic for m in subscriber.messages} == {f"gate/{where.code}/main/passage"}
        assert {m.qos for m in subscriber.messages} == {1}
        # A subscriber that connects afterwards is told the device's state at once.
        late = Subscriber(BROKER[1], f"gate/{where.code}/+/device/+")
        wait_for(lambda: len(late.messages) >= 1)
        retained = late.messages[0]
        assert retained.retain
        assert retained.topic == f"gate/{where.code}/main/device/id_reader"
        assert orjson.loads(retained.payload)["state"] == "offline"
        assert orjson.loads(retained.payload)["silent"] is True
    finally:
        relay.stop()
        subscriber.close()
        if late is not None:
            late.close()
        clear_retained(where.code)


def clear_retained(code: str) -> None:
    """Leave nothing retained on the shared broker."""
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect(*BROKER)
    client.loop_start()
    for topic in (f"gate/{code}/main/device/id_reader", f"gate/{code}/status"):
        client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which(MOSQUITTO), reason="no mosquitto binary")
def test_a_broker_down_loses_nothing_and_a_restarted_relay_resumes_from_its_cursor(
    services: Services, gate: Gate
) -> None:
    where = compound()
    port = free_port()
    sink = MqttSink(host="127.0.0.1", port=port, compound=where.code, ack_timeout=1.0)
    relay = relay_for(services, sink, where, batch=7)
    gate.events.subscribe(relay.on_event)
    relay.start()
    try:
        made = passages(gate, 20)  # the broker is not running: every passage is still made
        wait_for(lambda: relay.state.failures >= 2)
        assert relay.state.delivered == 0
        with mosquitto(port):
            subscriber = Subscriber(port, f"gate/{where.code}/+/passage")
            try:
                wait_for(lambda: relay.state.cursor == made[-1], timeout=30)
                wait_for(lambda: {p["seq"] for p in subscriber.payloads()} >= set(made))
                got = [p["seq"] for p in subscriber.payloads()]
                # In log order; a batch resent after a lost acknowledgement may repeat.
                assert sorted(set(got)) == made
                assert got == sorted(got)
                assert relay.state.failures == 0
            finally:
                subscriber.close()
            relay.stop()
            # Passages made while no relay runs are sent by the next one, from the cursor.
            later = passages(gate, 5)
            subscriber = Subscriber(port, f"gate/{where.code}/+/passage")
            again = relay_for(
                services, MqttSink(host="127.0.0.1", port=port, compound=where.code), where
            )
            again.start()
            try:
                wait_for(lambda: len(subscriber.messages) >= 5)
                time.sleep(0.3)
                assert [p["seq"] for p in subscriber.payloads()] == later
            finally:
                again.stop()
                subscriber.close()
    finally:
        relay.stop()


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver: checks the signature, fails the first ``failures`` posts."""

    secret = b""
    failures = 0
    seen: list[dict[str, Any]]
    refused_signatures = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        if not verify_signature(cls.secret, body, self.headers[SIGNATURE_HEADER], now=time.time()):
            cls.refused_signatures += 1
            self.send_response(401)
        elif cls.failures > 0:
            cls.failures -= 1
            self.send_response(503)
        else:
            cls.seen.append(orjson.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def receiver(secret: bytes, failures: int) -> Iterator[tuple[str, type[Receiver]]]:
    handler: type[Receiver] = type(
        "TestReceiver", (Receiver,), {"secret": secret, "failures": failures, "seen": []}
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_webhook_gets_every_passage_once_in_order_signed_after_failures(
    services: Services, gate: Gate
) -> None:
    where = compound()
    secret = secrets.token_bytes(32)
    with receiver(secret, failures=2) as (url, handler):
        relay = relay_for(services, WebhookSink(name="property", url=url, secret=secret), where)
        gate.events.subscribe(relay.on_event)
        relay.start()
        try:
            made = passages(gate, 12)
            wait_for(lambda: relay.state.cursor == made[-1])
        finally:
            relay.stop()
        items = [item for body in handler.seen for item in body.get("items", [])]
        assert [item["seq"] for item in items] == made  # the two 503s were sent again
        assert items == feed_items(services, where, made[0] - 1, len(made))
        assert handler.refused_signatures == 0
    # A receiver with another secret refuses every post; the relay keeps its cursor.
    with receiver(b"not-the-secret-at-all", failures=0) as (url, handler):
        relay = relay_for(services, WebhookSink(name="property", url=url, secret=secret), where)
        relay.start()
        try:
            passages(gate, 1)
            wait_for(lambda: handler.refused_signatures >= 1)
        finally:
            relay.stop()
        assert handler.seen == []
        assert relay.state.cursor == made[-1]


def test_a_signature_is_bound_to_the_body_the_secret_and_the_time() -> None:
    secret, body = b"k" * 32, b'{"items":[]}'
    header = signature(secret, body, 1_700_000_000)
    assert verify_signature(secret, body, header, now=1_700_000_100)
    assert not verify_signature(secret, body + b" ", header, now=1_700_000_100)
    assert not verify_signature(b"x" * 32, body, header, now=1_700_000_100)
    assert not verify_signature(secret, body, header, now=1_700_001_000)  # 1,000 s old
    assert not verify_signature(secret, body, "v1=abc", now=1_700_000_100)


class HalfSink:
    """A sink that takes at most ``take`` items of each batch, as a slow receiver might."""

    name = "half"

    def __init__(self, take: int) -> None:
        self.take, self.calls = take, 0
        self.items: list[dict[str, Any]] = []

    def deliver(self, items: Sequence[dict[str, Any]]) -> int:
        self.calls += 1
        if self.calls % 3 == 0:
            raise DeliveryFailed("down for a moment")
        taken = list(items[: self.take])
        self.items.extend(taken)
        return len(taken)

    def device_status(self, status: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_sink_that_takes_part_of_each_batch_still_gets_everything_in_order(
    services: Services, gate: Gate
) -> None:
    where = compound()
    sink = HalfSink(take=3)
    relay = relay_for(services, sink, where, batch=10)
    assert relay.deliver_pending() == 0  # the first round only notes where the log is
    made = passages(gate, 25)
    while relay.state.cursor < made[-1]:
        try:
            relay.deliver_pending()
        except DeliveryFailed:
            continue
    assert [item["seq"] for item in sink.items] == made
    assert SqlCursorStore(services.database).load("half") == made[-1]


def test_backoff_doubles_to_its_cap() -> None:
    backoff = Backoff(first=0.5, cap=8)
    assert [backoff.delay(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]
    assert backoff.delay(10_000) == 8


@pytest.mark.skipif(not broker_up(*BROKER), reason="no MQTT broker on 127.0.0.1:1883")
def test_the_station_publishes_what_the_settings_name(settings: Settings, tmp_path: Path) -> None:
    """``gate serve``'s station: MQTT from [events.mqtt], a webhook from [[events.webhooks]]."""
    code = f"t{secrets.token_hex(4)}"
    secret_file = tmp_path / "hook.secret"
    secret_file.write_bytes(secrets.token_hex(32).encode())
    with receiver(secret_file.read_bytes(), failures=0) as (url, handler):
        configured = load_settings(
            data_dir=settings.data_dir,
            database_url=settings.database_url,
            secrets={"key_file": settings.secrets.key_file},
            compound={"code": code},
            events={
                "mqtt": {"host": BROKER[0], "port": BROKER[1]},
                "webhooks": [{"name": "office", "url": url, "secret_file": str(secret_file)}],
                "poll_seconds": 0.2,
            },
        )
        services = bootstrap(configured)
        populate(services)
        subscriber = Subscriber(BROKER[1], f"gate/{code}/#")
        station = build_station(services)
        station.start()
        try:
            seq = swipe(station.gate, RESIDENT_A)
            wait_for(lambda: any(m.topic.endswith("/passage") for m in subscriber.messages))
            wait_for(lambda: len(handler.seen) >= 1)
        finally:
            station.stop()
            subscriber.close()
            services.close()
            clear_retained(code)
    passage = next(m for m in subscriber.messages if m.topic == f"gate/{code}/main/passage")
    assert orjson.loads(passage.payload)["seq"] == seq
    assert orjson.loads(passage.payload)["compound_id"] == code
    assert handler.seen[0]["items"][0]["seq"] == seq
    online = [m.payload for m in subscriber.messages if m.topic == f"gate/{code}/status"]
    assert online[0] == b"online"


def test_an_unreadable_webhook_secret_stops_the_start_naming_the_key(
    settings: Settings, tmp_path: Path
) -> None:
    configured = load_settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        secrets={"key_file": settings.secrets.key_file},
        events={
            "webhooks": [
                {"name": "office", "url": "http://127.0.0.1:9/", "secret_file": "/nonexistent"}
            ]
        },
    )
    services = bootstrap(configured)
    try:
        with pytest.raises(ConfigError) as refused:
            build_station(services)
    finally:
        services.close()
    assert refused.value.key == "events.webhooks.0.secret_file"
