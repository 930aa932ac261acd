"""Store-and-forward: how long an edge takes to catch up after a day without its hub.

The demo compound in a scratch SQLite database plays a whole simulated day
(``gate simulate --day``, about 10,000 passages through the real pipeline) with no hub
reachable: the backlog of a 24-hour outage. Then a hub starts (``gate serve`` in hub
mode on a scratch PostgreSQL database, or SQLite with ``--hub-sqlite``) and the edge's
upstream relay, the one ``gate serve`` runs, pushes the backlog; timed from the relay's
start to the hub holding the last passage, for each ``--batch``. Each batch size starts
from an empty hub. Prints passages/s and the time, medians of ``--repeat`` runs.

    .venv/bin/python benchmarks/bench_catchup.py [--batch 200,1000,5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_hub import drop_database, make_key, scratch_database, start_servers
from bench_passage import describe_machine, log_env, seed_compound, services_for

from api.outbound.upstream import UpstreamSink
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services, bootstrap
from gate.runtime.outbound_wiring import build_relays
from gate.runtime.settings import load_settings
from registry.database import Database
from registry.delivery_cursors import SqlCursorStore

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get(
    "GATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def play_day(env: dict[str, str]) -> int:
    """A simulated day on the edge; the passages written."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gate", "simulate", "--day", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    summary = done.stdout.strip().splitlines()[-1]
    passages = int(json.loads(summary)["summary"]["passages"])
    print(f"simulated day: {passages:,} passages in {time.perf_counter() - started:.0f} s")
    return passages


def catch_up(edge: Services, hub_url: str, key: str, batch: int, head: int) -> float:
    """Seconds from the relay's start until the hub holds the edge's last passage."""
    sink = UpstreamSink(url=hub_url, key=key, compound=edge.settings.compound.code)
    (relay,) = build_relays(edge, clock=lambda: datetime.now(UTC), sinks=[sink])
    relay.batch = batch
    started = time.perf_counter()
    relay.start()
    try:
        while relay.state.cursor < head:
            if time.perf_counter() - started > 1800:
                raise SystemExit("the edge did not catch up in 30 minutes")
            time.sleep(0.01)
        return time.perf_counter() - started
    finally:
        relay.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", default="200,1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hub-sqlite", action="store_true")
    options = parser.parse_args()
    batches = [int(value) for value in options.batch.split(",")]
    print(f"bench_catchup {datetime.now(LOCAL_TZ):%Y-%m-%d %H:%M %Z}: {describe_machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-catchup-") as name:
        scratch = Path(name)
        key_file = scratch / "data.key"
        key_file.write_bytes(base64.b64encode(secrets.token_bytes(32)) + b"\n")
        key_file.chmod(0o600)
        edge_url = f"sqlite:///{scratch / 'edge.db'}"
        seed_compound(edge_url, scratch, key_file, datetime.now(LOCAL_TZ).date())
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("GATE_")}
        edge_env = {
            **base_env,
            "GATE_DATABASE_URL": edge_url,
            "GATE_DATA_DIR": str(scratch / "edge"),
            **log_env(scratch),
            "GATE_SECRETS__KEY_FILE": str(key_file),
            "GATE_LOG_LEVEL": "WARNING",
        }
        play_day(edge_env)
        edge = services_for(edge_url, scratch, key_file, "edge")
        head = edge.passages.tail(1)[-1].seq
        results: dict[int, list[float]] = {size: [] for size in batches}
        try:
            for _round in range(options.repeat):
                for size in batches:
                    seconds = one_run(edge, scratch, key_file, base_env, size, head, options)
                    results[size].append(seconds)
                    print(f"  batch {size:>5}: {head / seconds:,.0f} passages/s ({seconds:.1f} s)")
        finally:
            edge.close()
    engine = "SQLite" if options.hub_sqlite else "PostgreSQL"
    print(f"catch-up of a day's {head:,} passages, hub on {engine}, medians of {options.repeat}:")
    for size, values in results.items():
        seconds = statistics.median(values)
        print(f"  batch {size:>5}: {seconds:6.1f} s = {head / seconds:8,.0f} passages/s")


def one_run(
    edge: Services,
    scratch: Path,
    key_file: Path,
    base_env: dict[str, str],
    batch: int,
    head: int,
    options: argparse.Namespace,
) -> float:
    """An empty hub, the relay's cursor forgotten, the backlog pushed once."""
    SqlCursorStore(edge.database).save("upstream", 0)
    if options.hub_sqlite:
        hub_url, admin = f"sqlite:///{scratch / f'hub-{secrets.token_hex(3)}.db'}", None
    else:
        hub_url, admin = scratch_database(POSTGRES)
    try:
        Database(hub_url).upgrade()
        hub = bootstrap(
            load_settings(
                data_dir=scratch / "hub", database_url=hub_url, secrets={"key_file": key_file}
            )
        )
        try:
            key = make_key(hub, "edge", (edge.settings.compound.code,), "passages:push")
        finally:
            hub.close()
        env = {
            **base_env,
            "GATE_DATABASE_URL": hub_url,
            "GATE_DATA_DIR": str(scratch / "hub"),
            "GATE_SECRETS__KEY_FILE": str(key_file),
            "GATE_HUB__ENABLED": "true",
            "GATE_API__REQUESTS_PER_MINUTE": "1000000",
            "GATE_LOG_LEVEL": "WARNING",
        }
        servers, urls = start_servers(env, 1)
        try:
            return catch_up(edge, urls[0], key, batch, head)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    finally:
        if admin is not None:
            drop_database(admin, hub_url)


if __name__ == "__main__":
    main()
