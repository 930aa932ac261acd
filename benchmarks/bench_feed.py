"""The district feed's speed: rows/s through NDJSON over real HTTP, and decisions meanwhile.

Builds the demo compound in a scratch SQLite database, runs 5,000 real passages through
the pipeline, then copies them (new seq and uuid) up to ``--rows`` rows (the hash chain
of the copies is random: the feed does not read it). Serves the app with
``gate serve`` in a process of its own and pulls the whole log as NDJSON with a key, as a
district would, timing first byte to last. In the same run:

- baseline: stdlib ``json`` over an in-process ``sqlite3`` fetch of the same rows (what the
  issue quotes, about 106k rows/s on one core here);
- the feed's own work in-process (``read_lines``: fetch and encode, no HTTP), to show
  where time goes;
- the same with masked documents (a key with ``passages:read-masked-documents``: the
  documents joined), in-process and over HTTP;
- each rate ``--repeat`` times, interleaved, and their medians (the machine is shared);
- decision latency (card passages through the pipeline) idle, then while the feed is
  pulled at full speed; p50 and p99 and their ratio.

    .venv/bin/python benchmarks/bench_feed.py [--rows 1000000] [--passages 2000]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
from bench_passage import (
    SEED,
    describe_machine,
    draw_visits,
    log_env,
    quantile,
    run_pipeline,
    seed_compound,
    services_for,
)

from devices.memory_barrier import RecordingBarrier
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.app.district_feed import MAX_PAGE, CompoundAddress, FeedProfile, feed_encoder, read_lines
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services, build_gate

REAL_PASSAGES = 5_000


def fill_log(db_path: Path, rows: int) -> None:
    """Copy the first REAL_PASSAGES rows until the log holds ``rows`` rows."""
    connection = sqlite3.connect(db_path)
    columns = [row[1] for row in connection.execute("PRAGMA table_info(passages)")]
    copied = [column for column in columns if column not in ("seq", "uuid", "row_hash")]
    names = ", ".join(copied)
    have = connection.execute("SELECT max(seq) FROM passages").fetchone()[0]
    offset = have
    while offset < rows:
        take = min(have, rows - offset)
        connection.execute(
            f"INSERT INTO passages (seq, uuid, row_hash, {names}) "
            f"SELECT seq + ?, lower(hex(randomblob(16))), lower(hex(randomblob(32))), {names} "
            "FROM passages WHERE seq <= ?",
            (offset, take),
        )
        offset += take
    connection.execute("UPDATE passage_chain SET last_seq = ? WHERE id = 1", (rows,))
    connection.commit()
    connection.close()


def baseline_rows_per_second(db_path: Path) -> tuple[int, float]:
    """stdlib json over a plain sqlite3 fetch of every row (one core, no HTTP)."""
    connection = sqlite3.connect(db_path)
    connection.row_factory = sqlite3.Row
    started = time.perf_counter()
    count = 0
    for row in connection.execute("SELECT * FROM passages ORDER BY seq"):
        json.dumps(dict(row))
        count += 1
    seconds = time.perf_counter() - started
    connection.close()
    return count, count / seconds


def in_process_rows_per_second(services: Services, *, documents: bool) -> float:
    """The feed's own work on every row: pages fetched and encoded as NDJSON, no HTTP."""
    compound = CompoundAddress(code="ruyi", name="如意小区", province="内蒙古自治区")
    encoder = feed_encoder(compound, services.pseudonym, FeedProfile.STANDARD, documents)
    started, cursor, seen = time.perf_counter(), None, 0
    while True:
        page = read_lines(
            cursor, limit=MAX_PAGE, reader=services.feed, encoder=encoder, documents=documents
        )
        if not page.lines:
            break
        page.lines.append(b"")
        b"\n".join(page.lines)
        seen, cursor = seen + page.count, page.next_cursor
    return seen / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pull_ndjson(url: str, key: str, limit: int) -> tuple[int, float]:
    """Every row as NDJSON in one request: rows and seconds, first request to last byte."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/x-ndjson"}
    count = 0
    started = time.perf_counter()
    with (
        httpx.Client(timeout=300) as client,
        client.stream("GET", f"{url}/api/v1/passages?limit={limit}", headers=headers) as answer,
    ):
        answer.raise_for_status()
        for chunk in answer.iter_bytes(1 << 20):
            count += chunk.count(b"\n")
    return count, time.perf_counter() - started


RATES = (
    ("baseline", "baseline, sqlite3 fetch + stdlib json, in-process"),
    ("in_process", "feed work in-process (fetch + encode, no HTTP)"),
    ("in_process_masked", "  the same with masked documents"),
    ("http", "NDJSON over HTTP, one request"),
    ("http_masked", "  the same with masked documents"),
)


def measure_rounds(
    rounds: int,
    db_path: Path,
    services: Services,
    base: str,
    key: str,
    masked_key: str,
    rows: int,
) -> dict[str, list[float]]:
    """Every rate, one after the other in each round (drifting load hits all alike)."""
    rates: dict[str, list[float]] = {name: [] for name, _ in RATES}
    for number in range(1, rounds + 1):
        rates["baseline"].append(baseline_rows_per_second(db_path)[1])
        rates["in_process"].append(in_process_rows_per_second(services, documents=False))
        rates["in_process_masked"].append(in_process_rows_per_second(services, documents=True))
        for name, text in (("http", key), ("http_masked", masked_key)):
            count, seconds = pull_ndjson(base, text, rows)
            assert count == rows, f"{count} rows of {rows}"
            rates[name].append(count / seconds)
        print(
            f"round {number}: "
            + ", ".join(f"{name} {values[-1]:,.0f}" for name, values in rates.items())
            + " rows/s"
        )
    return rates


def report_rates(rates: dict[str, list[float]]) -> None:
    """Medians, each against the baseline's median and as the median of same-round ratios."""
    baseline = statistics.median(rates["baseline"])
    for name, label in RATES:
        median = statistics.median(rates[name])
        line = f"{label}: {median:,.0f} rows/s (median of {len(rates[name])})"
        if name != "baseline":
            same_round = statistics.median(
                value / base for value, base in zip(rates[name], rates["baseline"], strict=True)
            )
            line += (
                f", x{median / baseline:.2f} the baseline (same-round ratios: x{same_round:.2f})"
            )
        print(line)
    seconds = 1_000_000 / statistics.median(rates["http"])
    print(f"1M rows over HTTP at the median rate: {seconds:.1f} s (goal < 7 s, >= 150,000 rows/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--passages", type=int, default=2_000, help="for the decision latency")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the rate figures")
    options = parser.parse_args()
    print(f"bench_feed {datetime.now(LOCAL_TZ):%Y-%m-%d %H:%M %Z}: {describe_machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-feed-") as name:
        scratch = Path(name)
        key_file = scratch / "data.key"
        key_file.write_bytes(base64.b64encode(secrets.token_bytes(32)) + b"\n")
        key_file.chmod(0o600)
        db_path = scratch / "feed.db"
        url = f"sqlite:///{db_path}"
        today = datetime.now(LOCAL_TZ).date()
        demo = seed_compound(url, scratch, key_file, today)
        registered = tuple(f"{p.doc_type.value}:{p.doc_number}" for p in demo.persons)
        services = services_for(url, scratch, key_file, "bench")
        gate = build_gate(services, barrier=RecordingBarrier())
        run_pipeline(gate.pipeline, draw_visits(registered, REAL_PASSAGES))
        started = time.perf_counter()
        fill_log(db_path, options.rows)
        print(f"log: {options.rows:,} rows ({time.perf_counter() - started:.1f} s to copy)")

        admin = Actor(name="bench", origin="bench", at=datetime.now(UTC))
        key = create_api_key(
            CreateApiKey(name="bench-district", scopes=("passages:read",)),
            actor=admin,
            units=services.units,
        ).text
        masked_key = create_api_key(
            CreateApiKey(
                name="bench-district-masked",
                scopes=("passages:read", "passages:read-masked-documents"),
            ),
            actor=admin,
            units=services.units,
        ).text
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
        gate_command = Path(sys.executable).with_name("gate")
        server = subprocess.Popen([str(gate_command), "serve"], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            # Start-up loads the snapshot, presence replayed from the log: minutes at 1M rows.
            launched = time.monotonic()
            deadline = launched + 900
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            print(f"gate serve answered after {time.monotonic() - launched:.1f} s")
            rates = measure_rounds(
                options.repeat, db_path, services, base, key, masked_key, options.rows
            )
            report_rates(rates)
            visits = draw_visits(registered, options.passages)
            idle = run_pipeline(gate.pipeline, visits)
            pulling = threading.Event()

            def pull_forever() -> None:
                while not pulling.is_set():
                    pull_ndjson(base, key, 200_000)

            puller = threading.Thread(target=pull_forever, daemon=True)
            puller.start()
            time.sleep(0.5)
            loaded = run_pipeline(gate.pipeline, draw_visits(registered, options.passages))
            pulling.set()
            puller.join(timeout=120)
            for label, run in (("idle", idle), ("feed pulled", loaded)):
                print(
                    f"decision {label}: p50 {quantile(run.latencies, 0.5):.3f} ms, "
                    f"p99 {quantile(run.latencies, 0.99):.3f} ms"
                )
            ratio = quantile(loaded.latencies, 0.99) / quantile(idle.latencies, 0.99)
            print(f"decision p99 while pulled / idle: x{ratio:.2f} (goal <= 2)")
        finally:
            server.terminate()
            server.wait(timeout=30)
            services.close()
    print(f"seed {SEED}")


if __name__ == "__main__":
    main()
