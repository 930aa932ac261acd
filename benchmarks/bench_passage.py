"""Benchmark: ID card -> decision -> durable log row; p50/p99/max and passages per second.

On the demo compound (about 4,600 persons), 10,000 ID-card passages go through
``PassagePipeline.process`` one after the other, each timed on its own. The same
passages go, in the same run and on the same kind of database, through a baseline
pipeline that differs only in where identification and context come from: instead of
the in-memory snapshot it queries the registry tables for the one person at every
passage (person, statuses, exemptions, household, rules, revision, presence, outings).
The floor is a bare durable commit: one INSERT of a chained SHA-256 (computed inside the
timing) and COMMIT on the driver's connection, with the database's own durability
settings (SQLite: WAL, synchronous=FULL).

Each variant runs on its own copy of one seeded database, so all start from an empty
log. Passages draw (seeded) from the demo persons' documents plus about 5% valid numbers
nobody registered; a person's next passage goes the other way only after the barrier
opened for them, so anti-passback stays quiet and a refused quarantined resident tries
the exit again. Decisions of both pipelines must agree passage by passage; the log's hash
chain and row count are verified at the end.

    .venv/bin/python benchmarks/bench_passage.py [--passages 10000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import platform
import random
import secrets
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from passage_baseline import QueryingSnapshots
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, make_url

from devices.memory_barrier import RecordingBarrier
from gate.app.pipeline import PassagePipeline
from gate.domain.documents import DocumentType, gb11643_check_character, normalize
from gate.domain.events import EventBus
from gate.domain.model import (
    Credential,
    CredentialKind,
    Direction,
    DocumentRead,
    Outcome,
)
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services, bootstrap, build_gate, utc_now
from gate.runtime.keyfile import generate_key_file
from gate.runtime.settings import load_settings
from registry.chain_check import verify_chain
from registry.database import Database
from registry.demo import DemoCompound, generate_demo
from registry.demo_facts import REGIONS
from registry.demo_seed import seed_demo
from registry.models import Passage
from registry.passages import SqlPassageLog

SEED = 2020
OUTSIDER_SHARE = 0.05
GOAL_P99_MS, GOAL_RATIO, GOAL_RATE = 2.0, 10.0, 2000.0

Visit = tuple[DocumentRead, bool]  # the card, and whether it belongs to a registered person


# --- databases --------------------------------------------------------------------------


@dataclass
class Engine:
    """Where the databases of one engine live, and how to copy the seeded one."""

    name: str
    url_for: Callable[[str], str]
    clone: Callable[[str, str], str]  # (seeded name, new name) -> URL of the copy
    drop_all: Callable[[], None]


def sqlite_engine(scratch: Path) -> Engine:
    def url_for(name: str) -> str:
        return f"sqlite:///{scratch / name}.db"

    def clone(seeded: str, name: str) -> str:
        # The backup API copies a consistent image, WAL content included.
        with sqlite3.connect(scratch / f"{seeded}.db") as source:
            target = sqlite3.connect(scratch / f"{name}.db")
            source.backup(target)
            target.close()
        return url_for(name)

    return Engine("sqlite", url_for, clone, lambda: None)


def postgres_engine(server_url: str) -> Engine:
    created: list[str] = []

    @contextmanager
    def admin() -> Iterator[Connection]:
        engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def create(name: str, template: str | None = None) -> str:
        database = f"gate_bench_{name}"
        copy = f' TEMPLATE "gate_bench_{template}"' if template else ""
        with admin() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{database}"{copy}'))
        created.append(database)
        return make_url(server_url).set(database=database).render_as_string(hide_password=False)

    def drop_all() -> None:
        with admin() as connection:
            for database in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))

    return Engine("postgresql", create, lambda seeded, name: create(name, seeded), drop_all)


def log_keys(scratch: Path) -> dict[str, str]:
    """One chain and anchor key for every copy of the seeded database: the log is keyed
    (``[log]``), and each copy's data folder would otherwise look for its own key."""
    keys = scratch / "log-keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    files = {"chain_key_file": keys / "chain.key", "anchor_key_file": keys / "anchor.key"}
    for setting, path in files.items():
        generate_key_file(path, setting=f"log.{setting}")  # once; later calls keep it
    return {setting: str(path) for setting, path in files.items()}


def log_env(scratch: Path) -> dict[str, str]:
    """``log_keys`` for a ``gate`` process started over a copy of the seeded database."""
    return {f"GATE_LOG__{key.upper()}": value for key, value in log_keys(scratch).items()}


def services_for(url: str, scratch: Path, key_file: Path, name: str, **more: Any) -> Services:
    """Services over a copy of the seeded database; ``more``: further settings sections."""
    # WARNING: the recording barrier logs every opening at INFO, which would time stderr.
    settings = load_settings(
        data_dir=scratch / name,
        database_url=url,
        secrets={"key_file": key_file},
        log=log_keys(scratch),
        log_level="WARNING",
        **more,
    )
    return bootstrap(settings)


def seed(url: str, scratch: Path, key_file: Path, today: date) -> tuple[str, ...]:
    """Migrate and seed the demo compound; return the registered document reads' keys."""
    demo = seed_compound(url, scratch, key_file, today)
    return tuple(f"{p.doc_type.value}:{p.doc_number}" for p in demo.persons)


def seed_compound(url: str, scratch: Path, key_file: Path, today: date) -> DemoCompound:
    """Migrate and seed the demo compound (also used by ``bench_qr_passage.py``)."""
    database = Database(url)
    database.upgrade()
    database.dispose()
    services = services_for(url, scratch, key_file, "seed")
    demo = generate_demo(seed=SEED, today=today)
    try:
        with services.database.session() as session:
            seed_demo(
                session,
                cipher=services.cipher,
                demo=demo,
                compound_code="ruyi",
                compound_name="如意小区",
                now=datetime.now(UTC),
                actor="bench",
                origin="bench",
            )
    finally:
        services.close()
    return demo


# --- the passages -----------------------------------------------------------------------


def draw_visits(registered: tuple[str, ...], count: int) -> list[Visit]:
    """``count`` card reads: registered documents, and about 5% unregistered valid ones."""
    rng = random.Random(SEED)
    known = set(registered)
    outsiders: list[DocumentRead] = []
    while len(outsiders) < 200:
        first17 = (
            f"{rng.choice(sorted(REGIONS))}{1950 + rng.randrange(55)}"
            f"{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
        )
        number = first17 + gb11643_check_character(first17)
        if f"{DocumentType.RESIDENT_ID.value}:{number}" not in known:
            outsiders.append(DocumentRead(DocumentType.RESIDENT_ID, number))
    residents = [
        DocumentRead(DocumentType(key.split(":", 1)[0]), key.split(":", 1)[1]) for key in registered
    ]
    return [
        (rng.choice(outsiders), False)
        if rng.random() < OUTSIDER_SHARE
        else (rng.choice(residents), True)
        for _ in range(count)
    ]


@dataclass
class Run:
    """Per-passage nanoseconds, the wall time of the whole run and what was decided."""

    latencies: list[int]
    seconds: float
    outcomes: list[Outcome]
    reasons: Counter[str]


def run_pipeline(pipeline: PassagePipeline, visits: list[Visit], *, interval: float = 0.0) -> Run:
    """Process every card read at lane ``main``; directions follow the barrier.

    ``interval`` paces the reads (one every ``interval`` seconds, as people arrive) instead
    of back to back; each is still timed from its own start.
    """
    rng = random.Random(SEED + 1)
    going: dict[str, Direction] = {}
    latencies, outcomes, reasons = [], [], Counter[str]()
    started = time.perf_counter()
    for index, (document, registered) in enumerate(visits):
        if interval:
            time.sleep(max(0.0, started + index * interval - time.perf_counter()))
        key = document.number
        direction = going.setdefault(
            key, rng.choice((Direction.IN, Direction.OUT)) if registered else Direction.IN
        )
        credential = Credential(CredentialKind.ID_CARD, document=document)
        before = time.perf_counter_ns()
        result = pipeline.process(credential, lane="main", direction=direction)
        latencies.append(time.perf_counter_ns() - before)
        if result.barrier_opened and registered:
            going[key] = Direction.OUT if direction is Direction.IN else Direction.IN
        outcomes.append(result.decision.outcome)
        reasons.update(result.decision.reason_codes)
    return Run(latencies, time.perf_counter() - started, outcomes, reasons)


def baseline_pipeline(services: Services) -> PassagePipeline:
    """The production pipeline with the snapshot swapped for per-passage queries."""
    cipher = services.cipher

    def document_hash(document: DocumentRead) -> str:  # as in gate.runtime.bootstrap.build_gate
        return cipher.lookup_hash(document.doc_type.value, normalize(document.number))

    return PassagePipeline(
        snapshots=QueryingSnapshots(services.database),
        log=SqlPassageLog(services.database, chain_key=services.chain_key.material),
        barrier=RecordingBarrier(),
        events=EventBus(),
        document_hash=document_hash,
        lanes=services.settings.gate.lane_ids,
        clock=utc_now,
    )


def run_floor(database: Database, count: int) -> Run:
    """INSERT one chained 64-character hash and COMMIT, ``count`` times, on the driver."""
    connection = database.engine.raw_connection()  # carries the engine's PRAGMAs
    marker = "?" if database.dialect == "sqlite" else "%s"
    try:
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE bench_floor (n INTEGER PRIMARY KEY, hash CHAR(64))")
        connection.commit()
        latencies, digest = [], "0" * 64
        started = time.perf_counter()
        for n in range(1, count + 1):
            before = time.perf_counter_ns()
            digest = hashlib.sha256(f"{digest}\n{n}".encode()).hexdigest()
            cursor.execute(f"INSERT INTO bench_floor VALUES ({marker}, {marker})", (n, digest))
            connection.commit()
            latencies.append(time.perf_counter_ns() - before)
        seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_floor")
        assert cursor.fetchone() == (count,)
    finally:
        connection.close()
    return Run(latencies, seconds, [], Counter())


# --- report -----------------------------------------------------------------------------


def quantile(latencies: list[int], q: float) -> float:
    """The ``q`` quantile in milliseconds (nearest rank)."""
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


def row(label: str, run: Run) -> str:
    return (
        f"  {label:34} {quantile(run.latencies, 0.5):8.3f} {quantile(run.latencies, 0.99):8.3f} "
        f"{max(run.latencies) / 1e6:8.2f} {len(run.latencies) / run.seconds:10,.0f}"
    )


def verify(services: Services, passages: int) -> str:
    report = verify_chain(services.database, chain_key=services.chain_key.material)
    with services.database.engine.connect() as connection:
        rows = connection.scalar(select(text("count(*)")).select_from(Passage.__table__))
    assert report.intact, f"passage chain broken at {report.first_broken_seq}: {report.problem}"
    assert rows == passages, f"{rows} rows for {passages} passages"
    return f"chain intact, {rows:,} rows = {passages:,} passages"


def bench_engine(engine: Engine, scratch: Path, key_file: Path, passages: int) -> None:
    today = datetime.now(LOCAL_TZ).date()  # quarantines drawn around today are in force
    began = time.perf_counter()
    registered = seed(engine.url_for("seed"), scratch, key_file, today)
    print(f"\n[{engine.name}] demo compound seeded: {len(registered):,} persons "
          f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
    visits = draw_visits(registered, passages)

    floor_services = services_for(engine.clone("seed", "floor"), scratch, key_file, "floor")
    try:
        floor = run_floor(floor_services.database, passages)
    finally:
        floor_services.close()

    runs: dict[str, Run] = {}
    checks: dict[str, str] = {}
    for name in ("snapshot", "baseline"):
        services = services_for(engine.clone("seed", name), scratch, key_file, name)
        try:
            pipeline = (
                build_gate(services, barrier=RecordingBarrier()).pipeline
                if name == "snapshot"
                else baseline_pipeline(services)
            )
            runs[name] = run_pipeline(pipeline, visits)
            checks[name] = verify(services, passages)
        finally:
            services.close()
    snapshot, baseline = runs["snapshot"], runs["baseline"]
    agree = sum(a is b for a, b in zip(snapshot.outcomes, baseline.outcomes, strict=True))

    print(f"  {'':34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'per second':>10}")
    print(row("floor: INSERT + COMMIT (driver)", floor))
    print(row("pipeline (snapshot)", snapshot))
    print(row("baseline (queries per passage)", baseline))
    p50, p99 = (quantile(snapshot.latencies, q) for q in (0.5, 0.99))
    ratio50 = quantile(baseline.latencies, 0.5) / p50
    ratio99 = quantile(baseline.latencies, 0.99) / p99
    rate = passages / snapshot.seconds
    print(f"  pipeline vs baseline: x{ratio50:.1f} faster at p50, x{ratio99:.1f} at p99")
    print(
        f"  pipeline vs floor: x{p50 / quantile(floor.latencies, 0.5):.1f} the floor at p50, "
        f"x{p99 / quantile(floor.latencies, 0.99):.1f} at p99"
    )
    outcomes = Counter(outcome.value for outcome in snapshot.outcomes)
    outsiders = sum(not registered for _, registered in visits)
    print(
        f"  passages: {passages:,} ({outsiders:,} unregistered cards); outcomes: "
        + ", ".join(f"{name} {count:,}" for name, count in outcomes.most_common())
    )
    print(
        "  reasons: "
        + ", ".join(f"{code} {count:,}" for code, count in snapshot.reasons.most_common())
    )
    print(f"  decisions of pipeline and baseline agree: {agree:,}/{passages:,}")
    for name, check in checks.items():
        print(f"  log of {name}: {check}")
    goals = (
        (f"p99 <= {GOAL_P99_MS:g} ms", p99 <= GOAL_P99_MS, f"{p99:.3f} ms"),
        (f">= {GOAL_RATIO:g}x baseline", min(ratio50, ratio99) >= GOAL_RATIO,
         f"x{ratio50:.1f} / x{ratio99:.1f}"),
        (f">= {GOAL_RATE:,.0f} passages/s", rate >= GOAL_RATE, f"{rate:,.0f}/s"),
    )  # fmt: skip
    for goal, met, value in goals:
        print(f"  goal {goal:24} {'met   ' if met else 'MISSED'} ({value})")


def describe_machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
        f"load average {load} (other work on the machine widens p99)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--postgres", help="also run against this PostgreSQL server URL")
    options = parser.parse_args()

    print(f"bench_passage {datetime.now(LOCAL_TZ):%Y-%m-%d %H:%M %Z}: {describe_machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-passage-") as name:
        scratch = Path(name)
        print(f"scratch folder (SQLite files): {scratch}")
        key_file = scratch / "data.key"
        key_file.write_bytes(base64.b64encode(secrets.token_bytes(32)) + b"\n")
        key_file.chmod(0o600)
        engines = [sqlite_engine(scratch)]
        if options.postgres:
            engines.append(postgres_engine(options.postgres))
        for engine in engines:
            try:
                bench_engine(engine, scratch, key_file, options.passages)
            finally:
                engine.drop_all()


if __name__ == "__main__":
    main()
