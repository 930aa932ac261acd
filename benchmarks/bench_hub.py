"""The hub's speed on PostgreSQL: ingest over HTTP, and feed pages on the partitioned table.

1. **Ingest**: a scratch database, ``--servers`` ``gate serve`` processes in hub mode on
   it, and ``--edges`` simulated edges (threads, one key bound to its compound each)
   posting batches of ``--batch`` standard feed items (bodies built before the clock
   starts) to the servers in turn; passages stored per second, ``--repeat`` rounds and
   their median. Goal: 20,000 passages/s. ``--baseline DIR`` (e.g. ``git archive`` of an
   older commit unpacked there) runs that code's servers too, rounds alternating with
   this checkout's, and prints the ratio of the medians.
2. **Feed pages**: ``hub_passages`` emptied and loaded with generate_series (not through
   the API) up to each of ``--sizes`` rows across ``--compounds`` compounds, a year of
   months (one partition each); then the time of one cursor page (500 and 5000 rows) at
   the start, the middle and the end of the feed, read by the store (SQL and fetch) for
   every compound, for a key of all the compounds and for a key of one, and over HTTP
   for the two keys; medians of ``--pages`` pages each.

    .venv/bin/python benchmarks/bench_hub.py [--sizes 1000000,5000000] [--edges 20]
        [--baseline /tmp/gate-old] [--skip-feed]
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson
from bench_passage import describe_machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gate.app.actor import Actor  # noqa: E402
from gate.app.api_keys import CreateApiKey, create_api_key  # noqa: E402
from gate.runtime.bootstrap import Services, bootstrap  # noqa: E402
from gate.runtime.settings import load_settings  # noqa: E402

logging.getLogger("httpx2").setLevel(logging.WARNING)  # no line per request
from registry.database import Database  # noqa: E402
from registry.hub_store import HubPartitions  # noqa: E402
from tests.hub_items import feed_item  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def scratch_database(admin_url: str) -> tuple[str, Any]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"bench_hub_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, admin


def drop_database(admin: Any, url: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def operator() -> Actor:
    return Actor("bench", "cli@bench", datetime.now(UTC))


def make_key(services: Services, name: str, compounds: tuple[str, ...], *scopes: str) -> str:
    command = CreateApiKey(name, scopes, compounds=compounds)
    return create_api_key(command, actor=operator(), units=services.units).text


def _ticks(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(servers: list[int]) -> dict[str, float]:
    """CPU seconds used so far by the servers, PostgreSQL's processes and this client."""
    postgres = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name.startswith("postgres"):
                postgres += _ticks(int(entry.name))
    usage = os.times()
    return {
        "hub servers": sum(_ticks(pid) for pid in servers),
        "postgresql": postgres,
        "bench client": usage.user + usage.system,
    }


def start_servers(
    env: dict[str, str], count: int, source: Path = ROOT, first_port: int = 18600
) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    """``count`` servers of the code in ``source`` (another checkout: its own code)."""
    servers, urls = [], []
    logs = Path(env["GATE_DATA_DIR"])
    logs.mkdir(parents=True, exist_ok=True)
    if source != ROOT:
        env = {**env, "PYTHONPATH": str(source)}
    for index in range(count):
        port = first_port + index + (os.getpid() % 500) * 8
        servers.append(
            subprocess.Popen(
                [sys.executable, "-m", "gate", "serve", "--port", str(port)],
                env=env,
                cwd=source,
                stdout=subprocess.DEVNULL,
                stderr=open(logs / f"serve-{port}.log", "wb"),  # noqa: SIM115 - the process's
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                log = (logs / f"serve-{url.rsplit(':', 1)[1]}.log").read_text()[-2000:]
                raise SystemExit(f"{url} did not start:\n{log}")
            time.sleep(0.2)
    return servers, urls


def ingest_round(
    urls: list[str], keys: dict[str, str], bodies: dict[str, list[bytes]]
) -> tuple[int, float]:
    """Every edge posts its bodies; (passages stored, seconds)."""
    stored = [0]
    lock = threading.Lock()
    failures: list[str] = []

    def edge(number: int, compound: str) -> None:
        headers = {"Authorization": f"Bearer {keys[compound]}", "Content-Type": "application/json"}
        with httpx.Client(timeout=120) as client:
            for turn, body in enumerate(bodies[compound]):
                url = urls[(number + turn) % len(urls)]
                answer = client.post(f"{url}/api/v1/ingest", content=body, headers=headers)
                if answer.status_code != 200:
                    failures.append(f"{compound}: {answer.status_code} {answer.text[:200]}")
                    return
                with lock:
                    stored[0] += answer.json()["accepted"]

    threads = [
        threading.Thread(target=edge, args=(number, compound))
        for number, compound in enumerate(bodies)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    if failures:
        raise SystemExit(f"ingest failed: {failures[:3]}")
    return stored[0], took


def bench_ingest(
    args: argparse.Namespace, url: str, env: dict[str, str], services: Services
) -> dict[str, Any]:
    """Ingest rounds against this checkout's servers and, with ``--baseline``, another's.

    With a baseline the rounds alternate (this, baseline, baseline, this, ...) on the same
    database, so both see the same machine load; the ratio is of the two medians.
    """
    compounds = [f"edge{number:03d}" for number in range(args.edges)]
    keys = {
        code: make_key(services, f"edge-{code}", (code,), "passages:push") for code in compounds
    }
    paths = {"this": ROOT}
    if args.baseline is not None:
        paths["baseline"] = args.baseline.resolve()
    started = {
        name: start_servers(env, args.servers, source, 18600 + 4 * number)
        for number, (name, source) in enumerate(paths.items())
    }
    rates: dict[str, list[float]] = {name: [] for name in paths}
    cpu: dict[str, dict[str, list[float]]] = {name: {} for name in paths}
    try:
        # One small warm-up push per edge and set of servers: connections, the partition.
        next_seq = dict.fromkeys(compounds, 1)
        for _, urls in started.values():
            warm = {
                code: [orjson.dumps({"compound_id": code, "items": [feed_item(code, seq)]})]
                for code, seq in next_seq.items()
            }
            ingest_round(urls, keys, warm)
            next_seq = {code: seq + 1 for code, seq in next_seq.items()}
        order = list(paths)
        for turn in range(args.repeat):
            for name in order if turn % 2 == 0 else order[::-1]:
                servers, urls = started[name]
                bodies: dict[str, list[bytes]] = {}
                for code in compounds:
                    chunks = []
                    for _ in range(args.batches):
                        first = next_seq[code]
                        items = [feed_item(code, seq) for seq in range(first, first + args.batch)]
                        next_seq[code] = first + args.batch
                        chunks.append(orjson.dumps({"compound_id": code, "items": items}))
                    bodies[code] = chunks
                before = cpu_seconds([server.pid for server in servers])
                stored, took = ingest_round(urls, keys, bodies)
                after = cpu_seconds([server.pid for server in servers])
                expected = args.edges * args.batches * args.batch
                assert stored == expected, (stored, expected)
                rates[name].append(stored / took)
                for part in after:
                    share = (after[part] - before[part]) / stored * 1e6
                    cpu[name].setdefault(part, []).append(share)
                print(
                    f"  ingest round ({name}): {stored} passages in {took:.2f} s"
                    f" = {stored / took:,.0f}/s",
                    file=sys.stderr,
                )
    finally:
        for servers, _ in started.values():
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
    body_size = len(orjson.dumps({"compound_id": "x", "items": [feed_item("x", 1)] * args.batch}))
    report: dict[str, Any] = {
        "servers": args.servers,
        "edges": args.edges,
        "batch": args.batch,
        "body_mb": round(body_size / 1e6, 2),
    }
    for name in paths:
        figures = {
            "source": str(paths[name]),
            "rates": [round(rate) for rate in rates[name]],
            "median_per_s": round(median(rates[name])),
            # CPU time each part spent per stored passage (microseconds): what the rate
            # would be on cores of its own is about 1e6 / (the sum / cores).
            "cpu_us_per_passage": {
                part: round(median(values), 1) for part, values in cpu[name].items()
            },
        }
        if name == "this":
            report.update(figures)
        else:
            report[name] = figures
    if "baseline" in report:
        report["ratio_to_baseline"] = round(
            report["median_per_s"] / report["baseline"]["median_per_s"], 2
        )
    return report


TEMPLATE = feed_item("tmpl", 1)
LOAD = """
INSERT INTO hub_passages (hub_seq, at, compound_id, seq, uuid, received_at, replayed, item)
SELECT g, t.at, t.compound, g / :compounds + 1, t.uuid, t.at, false,
       CAST(:template AS jsonb) || jsonb_build_object(
           'uuid', t.uuid, 'seq', g / :compounds + 1, 'serial', g / :compounds + 1,
           'compound_id', t.compound, 'at_utc', to_char(t.at AT TIME ZONE 'UTC',
           'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g,
     LATERAL (SELECT CAST(:start AS timestamptz) + (g * CAST(:step AS interval)) AS at,
                     'c' || lpad((g % :compounds)::text, 3, '0') AS compound,
                     md5(g::text)::uuid::text AS uuid) AS t
"""


def load_rows(database: Database, first: int, last: int, total: int, compounds: int) -> float:
    """Rows ``first..last`` of ``total``, spread over the last 12 months; seconds taken."""
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=365)
    step = timedelta(days=365) / total
    began = time.perf_counter()
    chunk = 1_000_000
    with database.engine.connect() as connection:
        for low in range(first, last + 1, chunk):
            high = min(last, low + chunk - 1)
            connection.execute(
                text(LOAD),
                {
                    "compounds": compounds,
                    "template": json.dumps(TEMPLATE, ensure_ascii=False),
                    "first": low,
                    "last": high,
                    "start": start,
                    "step": step,
                },
            )
            connection.commit()
            print(f"  loaded to {high:,}", file=sys.stderr)
        connection.execute(text("UPDATE hub_head SET last_hub_seq = :n WHERE id = 1"), {"n": last})
        connection.commit()
        connection.execute(text("ANALYZE hub_passages"))
        connection.commit()
    return time.perf_counter() - began


def time_pages(
    services: Services, urls: list[str], keys: dict[str, str], rows: int, args: argparse.Namespace
) -> dict[str, Any]:
    all_compounds = frozenset(f"c{number:03d}" for number in range(args.compounds))
    readers: dict[str, frozenset[str] | None] = {
        "every compound (store)": None,
        f"key of {args.compounds} compounds (store)": all_compounds,
        "key of 1 compound (store)": frozenset({"c007"}),
    }
    figures: dict[str, Any] = {}
    positions = {"start": 0, "middle": rows // 2, "end": rows - 6000}
    for size in (500, 5000):
        for label, compounds in readers.items():
            for where, after in positions.items():
                times = []
                for _ in range(args.pages):
                    began = time.perf_counter()
                    with services.units(operator()) as uow:
                        page = uow.hub.page_after(after, size, compounds=compounds)
                    times.append(time.perf_counter() - began)
                    assert page, (label, where)
                figures[f"{size} rows, {label}, {where}"] = round(median(times) * 1000, 1)
        for label, key in keys.items():
            with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {key}"}) as client:
                for where, after in positions.items():
                    times = []
                    for turn in range(args.pages):
                        began = time.perf_counter()
                        answer = client.get(
                            f"{urls[turn % len(urls)]}/api/v1/passages",
                            params={"after": f"v1.{after}", "limit": size},
                        )
                        answer.raise_for_status()
                        times.append(time.perf_counter() - began)
                    figures[f"{size} rows, {label} (HTTP), {where}"] = round(
                        median(times) * 1000, 1
                    )
    return figures


def bench_feed(args: argparse.Namespace, env: dict[str, str], services: Services) -> dict[str, Any]:
    database = services.database
    with database.engine.connect() as connection:
        connection.execute(text("TRUNCATE hub_passages, hub_edges"))
        connection.commit()
    # The year's month partitions, as ingests would have made them.
    now = datetime.now(UTC)
    HubPartitions(database).make_room([now - timedelta(days=day) for day in range(0, 370, 10)], now)
    codes = tuple(f"c{number:03d}" for number in range(args.compounds))
    keys = {
        f"key of {args.compounds} compounds": make_key(
            services, "district-all", codes, "passages:read"
        ),
        "key of 1 compound": make_key(services, "district-one", ("c007",), "passages:read"),
    }
    results: dict[str, Any] = {}
    loaded = 0
    for size in args.sizes:
        took = load_rows(database, loaded + 1, size, args.sizes[-1], args.compounds)
        loaded = size
        with database.engine.connect() as connection:
            bytes_on_disk = connection.scalar(
                text(
                    "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                    "WHERE inhparent = 'hub_passages'::regclass"
                )
            )
            partitions = connection.scalar(
                text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'hub_passages'::regclass")
            )
        servers, urls = start_servers(env, 1)
        try:
            pages = time_pages(services, urls, keys, size, args)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
        results[f"{size:,}"] = {
            "load_s": round(took, 1),
            "partitions": partitions,
            "gb_on_disk": round(int(bytes_on_disk or 0) / 1e9, 2),
            "page_ms": pages,
        }
        print(f"  {size:,} rows: {json.dumps(results[f'{size:,}'], indent=1)}", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get("GATE_TEST_POSTGRES_URL", ADMIN_URL))
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--edges", type=int, default=20)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=2, help="per edge and round")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1_000_000, 5_000_000],
    )
    parser.add_argument("--compounds", type=int, default=500)
    parser.add_argument("--pages", type=int, default=15)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (git archive of an older commit): its servers' ingest too",
    )
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-feed", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url, admin = scratch_database(args.admin_url)
    work = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    key_file = work / "data.key"
    key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    key_file.chmod(0o600)
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATE_")}
    env.update(
        GATE_DATABASE_URL=url,
        GATE_DATA_DIR=str(work / "var"),
        GATE_SECRETS__KEY_FILE=str(key_file),
        GATE_HUB__ENABLED="true",
        GATE_API__REQUESTS_PER_MINUTE="1000000",
        GATE_LOG_LEVEL="WARNING",
    )
    database = Database(url)
    database.upgrade()
    database.dispose()
    settings = load_settings(
        data_dir=work / "var",
        database_url=url,
        secrets={"key_file": key_file},
        hub={"enabled": True},
    )
    services = bootstrap(settings)
    report: dict[str, Any] = {"machine": describe_machine()}
    try:
        with services.database.engine.connect() as connection:
            report["postgresql"] = connection.scalar(text("SHOW server_version"))
        if not args.skip_ingest:
            print("ingest over HTTP:", file=sys.stderr)
            report["ingest"] = bench_ingest(args, url, env, services)
        if not args.skip_feed:
            print("feed pages on the partitioned table:", file=sys.stderr)
            report["feed"] = bench_feed(args, env, services)
    finally:
        services.close()
        drop_database(admin, url)
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        print(json.dumps(report, indent=1, ensure_ascii=False), file=sys.stderr)


if __name__ == "__main__":
    main()
