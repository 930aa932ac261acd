"""Start-up and snapshot reload against the length of the passage log; tracing by document.

Builds the demo compound in a scratch SQLite database, runs ``--real`` passages through
the real pipeline, then grows the log with ``fill_log`` (copies with new seq and uuid)
to each of ``--sizes`` in turn. After each fill the passage times are spread back from
now at ``--per-day`` passages a day (the copies would otherwise all be from the last
minute, so the 14 days of household outings the snapshot replays would be the whole
log); ``local_time`` is left as copied, nothing here reads it. At each size:

- ``load_snapshot`` (what ``gate serve`` does at start): median of ``--runs`` loads, and
  of its two log reads on their own: presence and the outings replay;
- ``SnapshotSource.reload`` (what a running gate does after every registry change), which
  reads the log on from its last load: median of ``--runs``, with no passage since (the
  passages since are read by seq, as many as they are);
- the same two reads as they were before migration 0009 (GROUP BY person_ref over the
  whole log; the replay ordered by seq, which SQLite served by walking the whole log), on
  a copy downgraded to 0008, so on the indexes they had;
- tracing (``SqlTraceStore.of_person``, 31 days) of the busiest unregistered document and
  of a person, on the 0009 indexes and on the 0008 copy;
- ``gate serve`` in a process of its own until ``/healthz`` answers: median of
  ``--serve-runs`` starts (imports and the app take about the same time at any size).

    .venv/bin/python benchmarks/bench_startup.py [--sizes 10000,200000,1000000]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
from bench_feed import fill_log, free_port
from bench_passage import SEED, describe_machine, draw_visits, log_env, run_pipeline, seed_compound
from bench_passage import services_for as bench_services
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from devices.memory_barrier import RecordingBarrier
from gate.domain.model import Direction, Presence
from gate.domain.snapshot import OUTING_MEMORY, RegistrySnapshot
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import build_gate, utc_now
from registry.database import Database
from registry.log_replay import _presence, _replay_outings
from registry.models import Passage
from registry.snapshot import SnapshotSource, load_snapshot
from registry.trace_store import SqlTraceStore

TRACE_WINDOW = timedelta(days=31)


def spread_times(db_path: Path, per_day: int) -> None:
    """Set each passage's time to now minus its distance from the newest at ``per_day``."""
    step = 86400 / per_day
    connection = sqlite3.connect(db_path)
    connection.execute(
        "UPDATE passages SET at = datetime('now', printf('-%d seconds', "
        "CAST(((SELECT max(seq) FROM passages) - seq) * ? AS INTEGER)))",
        (step,),
    )
    connection.commit()
    connection.close()


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- the log reads as registry/snapshot.py had them before migration 0009 ----------------


def presence_before(session: Session) -> dict[str, Presence]:
    latest = (
        select(func.max(Passage.seq).label("seq"))
        .where(Passage.opens_barrier.is_(True), Passage.person_ref.is_not(None))
        .group_by(Passage.person_ref)
        .subquery()
    )
    rows = session.execute(
        select(Passage.person_ref, Passage.direction).join(latest, Passage.seq == latest.c.seq)
    )
    return {
        ref: Presence.INSIDE if direction == Direction.IN.value else Presence.OUTSIDE
        for ref, direction in rows
        if ref is not None
    }


def outings_rows_before(session: Session, since: datetime) -> int:
    """The replay's read with its old ORDER BY seq (the replay itself is unchanged)."""
    rows = session.execute(
        select(Passage.person_ref, Passage.household_ref, Passage.direction, Passage.at)
        .where(
            Passage.opens_barrier.is_(True),
            Passage.household_ref.is_not(None),
            Passage.at >= since,
        )
        .order_by(Passage.seq)
    ).all()
    return len(rows)


def blank_snapshot() -> RegistrySnapshot:
    """A snapshot with nothing in it yet, to replay the outings into."""
    return RegistrySnapshot(
        revision=0, persons={}, person_by_document={}, visits_by_document={}, rules=()
    )


def measure(url: str, runs: int) -> dict[str, float]:
    """Median seconds of the snapshot load and its log reads, as the code is now."""
    database = Database(url)
    figures: dict[str, float] = {}
    try:
        with database.session() as session:
            now = datetime.now(UTC)
            figures["load"] = median_seconds(lambda: load_snapshot(session, now=now), runs)
            upto = 2**62
            figures["presence"] = median_seconds(lambda: _presence(session, upto=upto), runs)
            figures["replay"] = median_seconds(
                lambda: _replay_outings(
                    session, blank_snapshot(), since=now - OUTING_MEMORY, upto=upto
                ),
                runs,
            )
            snapshot = load_snapshot(session, now=now)
            figures["window"] = (
                session.scalar(
                    select(func.count())
                    .select_from(Passage)
                    .where(Passage.opens_barrier.is_(True), Passage.at >= now - OUTING_MEMORY)
                )
                or 0
            )
            assert snapshot.presence == presence_before(session), "presence changed"
        # A running gate's reload after a registry change reads on from its last load.
        source = SnapshotSource(database, clock=utc_now)
        figures["reload"] = median_seconds(source.reload, runs)
    finally:
        database.dispose()
    return figures


def measure_before(url: str, runs: int) -> dict[str, float]:
    """The old log reads, on a database whose indexes are those of 0008."""
    database = Database(url)
    try:
        with database.session() as session:
            since = datetime.now(UTC) - OUTING_MEMORY
            return {
                "presence": median_seconds(lambda: presence_before(session), runs),
                "replay_read": median_seconds(lambda: outings_rows_before(session, since), runs),
            }
    finally:
        database.dispose()


def trace_targets(url: str) -> tuple[str, str]:
    """The unregistered document hash seen most often, and the busiest person."""
    database = Database(url)
    try:
        with database.session() as session:
            document = session.scalar(
                select(Passage.document_hash)
                .where(Passage.document_hash.is_not(None))
                .group_by(Passage.document_hash)
                .order_by(func.count().desc())
                .limit(1)
            )
            person = session.scalar(
                select(Passage.person_ref)
                .where(Passage.person_ref.is_not(None))
                .group_by(Passage.person_ref)
                .order_by(func.count().desc())
                .limit(1)
            )
    finally:
        database.dispose()
    assert document is not None
    assert person is not None
    return document, person


def trace_seconds(url: str, document: str, person: str, runs: int) -> tuple[float, float]:
    """Median seconds of tracing the document alone, and a person with a document."""
    database = Database(url)
    until = datetime.now(UTC) + timedelta(minutes=1)
    try:
        with database.session() as session:
            store = SqlTraceStore(session)

            def trace(person_ref: str | None) -> Callable[[], object]:
                return lambda: store.of_person(
                    person_ref=person_ref,
                    document_hash=document,
                    since=until - TRACE_WINDOW,
                    until=until,
                    limit=10_000,
                )

            return median_seconds(trace(None), runs), median_seconds(trace(person), runs)
    finally:
        database.dispose()


def serve_seconds(url: str, scratch: Path, key_file: Path, runs: int) -> float:
    """Median seconds from starting ``gate serve`` to its first /healthz answer."""
    times: list[float] = []
    failures = 0
    while len(times) < runs:
        started = start_serve(url, scratch, key_file)
        if started is None:  # its port taken meanwhile by another process, say: once more
            failures += 1
            if failures > 2:
                raise SystemExit("gate serve did not start; its output is above")
            continue
        times.append(started)
    return statistics.median(times)


def start_serve(url: str, scratch: Path, key_file: Path) -> float | None:
    """Seconds until one ``gate serve`` answered /healthz, or None if it exited first."""
    gate_command = Path(sys.executable).with_name("gate")
    port = free_port()
    env = {
        **os.environ,
        "GATE_DATABASE_URL": url,
        "GATE_DATA_DIR": str(scratch / "serve"),
        **log_env(scratch),
        "GATE_SECRETS__KEY_FILE": str(key_file),
        "GATE_SERVER__PORT": str(port),
        "GATE_LOG_LEVEL": "WARNING",
    }
    launched = time.monotonic()
    server = subprocess.Popen([str(gate_command), "serve"], env=env)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - launched
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                print(f"gate serve exited with {server.returncode} before answering")
                return None
            if time.monotonic() > launched + 900:
                raise SystemExit("gate serve did not answer in 15 minutes")
            time.sleep(0.05)
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


def downgraded_copy(db_path: Path, copy: Path) -> str:
    """A copy of the database with the schema (and so the indexes) of 0008."""
    with sqlite3.connect(db_path) as source:
        target = sqlite3.connect(copy)
        source.backup(target)
        target.close()
    database = Database(f"sqlite:///{copy}")
    database.downgrade("0008")
    database.dispose()
    return f"sqlite:///{copy}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,200000,1000000", help="log lengths, rising")
    parser.add_argument("--real", type=int, default=5_000, help="passages through the pipeline")
    parser.add_argument("--per-day", type=int, default=10_000, help="passages a day")
    parser.add_argument("--runs", type=int, default=3, help="loads per median")
    parser.add_argument("--serve-runs", type=int, default=3, help="gate serve starts per median")
    options = parser.parse_args()
    sizes = sorted(int(size) for size in options.sizes.split(","))
    print(f"bench_startup {datetime.now(LOCAL_TZ):%Y-%m-%d %H:%M %Z}: {describe_machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as name:
        scratch = Path(name)
        key_file = scratch / "data.key"
        key_file.write_bytes(base64.b64encode(secrets.token_bytes(32)) + b"\n")
        key_file.chmod(0o600)
        db_path = scratch / "startup.db"
        url = f"sqlite:///{db_path}"
        demo = seed_compound(url, scratch, key_file, datetime.now(LOCAL_TZ).date())
        registered = tuple(f"{p.doc_type.value}:{p.doc_number}" for p in demo.persons)
        services = bench_services(url, scratch, key_file, "bench")
        try:
            gate = build_gate(services, barrier=RecordingBarrier())
            run_pipeline(gate.pipeline, draw_visits(registered, options.real))
        finally:
            services.close()
        print(
            f"demo compound: {len(registered):,} persons; {options.real:,} passages through the "
            f"pipeline; times spread at {options.per_day:,} passages a day"
        )
        results = []
        for size in sizes:
            started = time.perf_counter()
            fill_log(db_path, size)
            spread_times(db_path, options.per_day)
            filled = time.perf_counter() - started
            after = measure(url, options.runs)
            before_url = downgraded_copy(db_path, scratch / "before.db")
            before = measure_before(before_url, options.runs)
            document, person = trace_targets(url)
            trace_after = trace_seconds(url, document, person, 5)
            trace_before = trace_seconds(before_url, document, person, 5)
            Path(scratch / "before.db").unlink()
            serve = serve_seconds(url, scratch, key_file, options.serve_runs)
            results.append((size, after, before, trace_after, trace_before, serve))
            print(
                f"\n{size:,} passages ({size / options.per_day:.1f} days, filled in "
                f"{filled:.0f} s; {after['window']:,.0f} in the outings' {OUTING_MEMORY.days} days)"
            )
            print(f"  load_snapshot (start-up)            {after['load'] * 1e3:9.0f} ms")
            print(f"  SnapshotSource.reload (reading on)  {after['reload'] * 1e3:9.0f} ms")
            print(
                f"    presence      before {before['presence'] * 1e3:8.1f} ms  "
                f"now {after['presence'] * 1e3:8.1f} ms"
            )
            print(
                f"    outings read  before {before['replay_read'] * 1e3:8.1f} ms  "
                f"(read alone; the replay now, read and notes: {after['replay'] * 1e3:.0f} ms)"
            )
            print(
                f"  trace by document  before {trace_before[0] * 1e3:8.2f} ms  "
                f"now {trace_after[0] * 1e3:8.2f} ms"
            )
            print(
                f"  trace person+doc   before {trace_before[1] * 1e3:8.2f} ms  "
                f"now {trace_after[1] * 1e3:8.2f} ms"
            )
            print(f"  gate serve until /healthz answers   {serve:9.2f} s")
        small, large = results[0], results[-1]
        print(f"\n{large[0]:,} / {small[0]:,} passages (x{large[0] / small[0]:.0f} the log):")
        print(f"  load_snapshot x{large[1]['load'] / small[1]['load']:.2f}")
        print(f"  reload        x{large[1]['reload'] / small[1]['reload']:.2f}")
        print(f"  presence      x{large[1]['presence'] / small[1]['presence']:.2f} "
              f"(before: x{large[2]['presence'] / small[2]['presence']:.2f})")  # fmt: skip
        print(f"  gate serve    x{large[5] / small[5]:.2f}")
        window = OUTING_MEMORY.days * options.per_day
        if len(results) > 2 and results[-2][0] > window:
            middle = results[-2]
            print(
                f"{large[0]:,} / {middle[0]:,} passages (both past the outings' days): "
                f"load_snapshot x{large[1]['load'] / middle[1]['load']:.2f}, "
                f"reload x{large[1]['reload'] / middle[1]['reload']:.2f}, "
                f"gate serve x{large[5] / middle[5]:.2f}"
            )
        shutil.rmtree(scratch / "serve", ignore_errors=True)
    print(f"seed {SEED}")


if __name__ == "__main__":
    main()
