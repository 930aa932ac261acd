"""Offline: the database, the hub and the broker each taken away while the lanes work.

- The log's database refusing writes (a lock held past the timeout: both engines, quick):
  the passage is kept in the local spool, the barrier opens, and the database gets it
  first, in order, when it answers again; a spool emptied by a crash after its commit is
  not written twice.
- Under load (``test_everything_taken_away_under_load...``): a station whose two lanes
  are driven by the burst of ``tests.e2e.lane_rig``, pushing to a hub emulator and to a
  broker of its own; the hub answers 503 for a while, then the broker is stopped and
  started again, then (PostgreSQL only) the cluster itself is stopped with
  ``pg_ctlcluster`` and started again. Throughout, the lanes keep deciding; at the end the
  log holds a row for every pulse, the hub every row once, in order, and the broker every
  row.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from devices.memory_barrier import RecordingBarrier
from gate.app.sync_status import relay_lags
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead, Outcome
from gate.runtime.bootstrap import Services, bootstrap, build_gate, build_station
from registry.chain_check import verify_chain
from registry.database import Database
from registry.models import Passage
from registry.passage_spool import SPOOL_NAME
from tests.conftest import POSTGRES_URL
from tests.e2e.conftest import RESIDENT_A, RESIDENT_B, populate, same_gate
from tests.e2e.lane_rig import Feeder, invites, resident_passes, rig_lanes, wait_until
from tests.e2e.test_events_out import MOSQUITTO, Subscriber, free_port, mosquitto, swipe
from tests.e2e.test_upstream_push import KEY, HubState, hub_running

PG_CLUSTER = ("15", "main")  # pg_lsclusters on the development and CI machines


@contextmanager
def chain_head_held(database_url: str) -> Iterator[None]:
    """Another writer holds the chain head (SQLite: the write lock; PostgreSQL: the row)."""
    blocker = Database(database_url)
    connection = blocker.engine.connect()
    transaction = connection.begin()
    connection.execute(text("UPDATE passage_chain SET last_seq = last_seq WHERE id = 1"))
    try:
        yield
    finally:
        transaction.rollback()
        connection.close()
        blocker.dispose()


def test_a_refused_write_is_kept_in_the_spool_opens_the_barrier_and_is_written_first(
    services: Services, database_url: str
) -> None:
    populate(services)
    barrier = RecordingBarrier()
    gate = build_gate(services, barrier=barrier)
    spool = services.settings.data_dir / SPOOL_NAME
    log = gate.log
    # The lanes' log with a short lock wait, as test_pipeline's refused write has it.
    log._writer = services.database.writer_engine(lock_timeout_ms=200)
    with chain_head_held(database_url):
        kept = gate.pipeline.process(_card(RESIDENT_A), lane="main", direction=Direction.OUT)
        also = gate.pipeline.process(_card(RESIDENT_B), lane="main", direction=Direction.OUT)
        assert log.flush_spool() == 0  # still away: nothing written, nothing lost
    assert kept.decision.outcome is Outcome.ALLOW
    assert kept.record is not None
    assert also.record is not None
    assert kept.record.seq == 0
    assert kept.barrier_opened
    assert also.barrier_opened
    assert len(barrier.opened) == 2
    assert log.spooled() == 2
    assert _rows(services) == []
    after = swipe(gate, RESIDENT_A, Direction.IN)  # the database is back: spool first
    rows = _rows(services)
    assert [row.uuid for row in rows] == [
        kept.record.entry.uuid,
        also.record.entry.uuid,
        rows[2].uuid,
    ]
    assert [row.seq for row in rows] == [1, 2, 3]
    assert after == 3
    assert log.spooled() == 0
    assert spool.stat().st_size == 0
    report = verify_chain(services.database, chain_key=services.chain_key.material)
    assert report.intact
    assert report.checked == 3


def test_a_spool_left_full_by_a_crash_after_its_commit_is_not_written_twice(
    services: Services, database_url: str
) -> None:
    populate(services)
    gate = build_gate(services, barrier=RecordingBarrier())
    gate.log._writer = services.database.writer_engine(lock_timeout_ms=200)
    spool = services.settings.data_dir / SPOOL_NAME
    with chain_head_held(database_url):
        gate.pipeline.process(_card(RESIDENT_A), lane="main", direction=Direction.OUT)
    saved = spool.read_bytes()
    assert gate.log.flush_spool() == 1
    # As if killed between the commit and emptying the file; and a torn line after it.
    spool.write_bytes(saved + saved[: len(saved) // 2])
    assert gate.log.flush_spool() == 0
    assert len(_rows(services)) == 1
    assert spool.stat().st_size == 0


def _card(number: str) -> Credential:
    return Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, number)
    )


def _rows(services: Services) -> list[Passage]:
    with services.database.session() as session:
        return list(session.scalars(select(Passage).order_by(Passage.seq)).all())


def pg_ctl(action: str) -> None:
    subprocess.run(["pg_ctlcluster", *PG_CLUSTER, action], check=True, timeout=60)


def wait_for_postgres(timeout: float = 60) -> None:
    """Until the shared server accepts connections again."""
    engine = create_engine(make_url(POSTGRES_URL), pool_pre_ping=True)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        engine.dispose()


@contextmanager
def postgres_stopped(*pools: Callable[[], None]) -> Iterator[None]:
    """The shared cluster stopped, and always started again after, accepting connections.

    ``pools`` are disposed after: their connections died with the server (the test
    session's own, which drops the test's database, among them).
    """
    pg_ctl("stop")
    try:
        yield
    finally:
        pg_ctl("start")
        wait_for_postgres()
        for dispose in pools:
            dispose()


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which(MOSQUITTO), reason="no mosquitto binary")
def test_everything_taken_away_under_load_keeps_the_lanes_deciding_and_catches_up(
    services: Services, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    on_postgres = database_url.startswith("postgresql")
    if on_postgres and not shutil.which("pg_ctlcluster"):
        pytest.skip("no pg_ctlcluster to stop the server with")
    populate(services)
    passes = invites(services, 500)
    residents = resident_passes(services)
    code = services.settings.compound.code
    hub = HubState(code)
    hub_port, broker_port = free_port(), free_port()
    key_file = tmp_path / "hub.key"
    key_file.write_text(KEY)
    with (
        rig_lanes(("entry", "in"), ("exit", "out")) as lanes,
        hub_running(hub, hub_port),
        mosquitto(broker_port) as broker,
    ):
        settings = same_gate(
            services,
            gate={"snapshot_poll_seconds": 0.2, "lanes": [lane.config() for lane in lanes]},
            upstream={
                "url": f"http://127.0.0.1:{hub_port}",
                "key_file": str(key_file),
                "batch": 50,
            },
            events={
                "mqtt": {"host": "127.0.0.1", "port": broker_port},
                "poll_seconds": 0.2,
                "max_backoff_seconds": 1.0,
            },
        )
        station_services = bootstrap(settings)
        station = build_station(station_services)
        subscribers = [Subscriber(broker_port, f"gate/{code}/+/passage")]
        entry, exit_lane = lanes
        feeder = Feeder(entry, exit_lane, passes, residents)
        phases: dict[str, int] = {}
        spooled = 0

        def count() -> int:
            return sum(lane.pulses() for lane in lanes)

        def deciding(what: str, pulses: int = 15) -> None:
            """The lanes keep opening the barrier: ``pulses`` more while ``what``."""
            floor = count() + pulses
            wait_until(lambda: count() >= floor, timeout=60, what=f"{pulses} pulses while {what}")
            phases[what] = pulses

        station.start()
        feeder.start()
        try:
            deciding("all up")
            with hub.lock:
                hub.refuse_next = 10**9  # the hub answers 503 to every push
            deciding("the hub answers 503")
            with hub.lock:
                hub.refuse_next = 0
            broker.terminate()
            broker.wait(timeout=10)
            deciding("the broker is stopped")
            with mosquitto(broker_port):
                # Subscribed at once: paho waits a second at least before it reconnects.
                subscribers.append(Subscriber(broker_port, f"gate/{code}/+/passage"))
                if on_postgres:
                    server = request.getfixturevalue("postgres_server")
                    with postgres_stopped(server.close, services.database.dispose):
                        deciding("PostgreSQL is stopped")
                        spooled = station.gate.log.spooled()
                        assert spooled > 0  # kept locally, the barrier opened for them
                deciding("everything is back")
                feeder.stop()
                head = _head(station_services)
                wait_until(
                    lambda: hub.last_seq == head() and station.gate.log.spooled() == 0,
                    timeout=120,
                    what="the hub to catch up",
                )
                wait_until(
                    lambda: all(lag.behind == 0 for lag in lags(station_services)),
                    timeout=60,
                    what="the broker to acknowledge everything",
                )
                time.sleep(0.5)  # the last acknowledged messages on their way to the subscriber
        finally:
            feeder.stop()
            station.stop()
            for subscriber in subscribers:
                subscriber.close()
            station_services.close()
    rows = _rows(services)
    seqs = [row.seq for row in rows]
    assert seqs == list(range(1, len(rows) + 1))
    assert len({row.uuid for row in rows}) == len(rows)
    openings = {
        lane.id: sum(1 for r in rows if r.lane == lane.id and r.opens_barrier) for lane in lanes
    }
    assert openings == {lane.id: lane.pulses() for lane in lanes}  # a clean stop: all pulsed
    stored = list(hub.items.values())
    assert [item["seq"] for item in stored] == seqs  # each once, in order
    assert [item["uuid"] for item in stored] == [row.uuid for row in rows]
    got = [p["seq"] for subscriber in subscribers for p in subscriber.payloads()]
    assert sorted(set(got)) == seqs  # every passage; a batch resent after a lost ack may repeat
    report = verify_chain(services.database, chain_key=services.chain_key.material)
    assert report.intact
    assert report.checked == len(rows)
    print(
        f"{len(rows)} passages, {sum(openings.values())} pulses, phases {phases}, "
        f"hub posts {hub.posts} duplicates {hub.duplicates}, mqtt {len(got)} for {len(rows)}, "
        f"spooled while PostgreSQL was stopped {spooled}"
    )


def lags(services: Services) -> list[Any]:
    """How far each relay (the hub's, the broker's) is behind the log."""
    return relay_lags(
        cursors=services.delivery_cursors, passages=services.passages, expected=["upstream"]
    )


def _head(services: Services) -> Callable[[], int]:
    def head() -> int:
        with services.database.session() as session:
            return session.scalar(select(func.max(Passage.seq))) or 0

    return head
