"""Benchmark: import 10,000 persons from XLSX; print the median time and peak memory.

Each run is a fresh process on a fresh migrated database, so the peak RSS is that of one
import. The baseline, measured in the same run, is reading the same file with openpyxl
alone: the ratio says how much our validation, encryption and writing add to it.

    .venv/bin/python benchmarks/bench_import.py [--persons 10000] [--runs 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook

from gate.app.registry_values import CompoundName, ImportLimits
from gate.domain.documents import gb11643_check_character
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.importer import import_file
from registry.service import add_building, get_or_create_compound
from registry.tabular import COLUMNS

BUILDINGS, UNITS, ROOMS_PER_UNIT = 37, 5, 30
MAX_ROWS = 1_000_000
# seconds, peak RSS MB, rows, seconds of the second (unchanged) import
Result = tuple[float, float, int, float]
Queue = "multiprocessing.Queue[Result]"


def make_file(path: Path, persons: int) -> None:
    """A realistic import file: households of 1-4 persons, some in quarantine."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("人员登记")
    sheet.append([column.heading for column in COLUMNS])
    for index in range(persons):
        household = index // 3
        building = household % BUILDINGS + 1
        unit = household // BUILDINGS % UNITS + 1
        room = f"{household // (BUILDINGS * UNITS) % 18 + 1}{household % 2 + 1:02d}"
        first17 = (
            f"150102{1950 + index % 60}{index % 12 + 1:02d}{index % 28 + 1:02d}{index % 1000:03d}"
        )
        number = first17 + gb11643_check_character(first17)
        quarantined = index % 17 == 0
        values = {
            "building": f"{building}号楼",
            "unit": str(unit),
            "room": room,
            "name": f"居民{index}",
            "doc_type": "居民身份证",
            "doc_number": number,
            "phone": f"138{index:08d}",
            "relation": "户主" if index % 3 == 0 else "家庭成员",
            "kind": "居民",
            "status": "居家隔离" if quarantined else "",
            "status_from": "2026-11-20" if quarantined else "",
            "status_to": "2026-12-04" if quarantined else "",
        }
        sheet.append([values.get(column.name, "") for column in COLUMNS])
    workbook.save(path)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_import(url: str, path: str, queue: Queue) -> None:
    """Child process: migrate, lay out the compound, import; report seconds and peak RSS."""
    database = Database(url)
    database.upgrade()
    with database.session() as session:
        compound = get_or_create_compound(session, code="bench", name="bench")
        for building in range(1, BUILDINGS + 1):
            add_building(
                session,
                compound=compound,
                label=str(building),
                units=[str(u) for u in range(1, UNITS + 1)],
            )
    cipher = PersonalDataCipher(bytes(range(32)))
    timings = []
    for _attempt in ("first import", "re-import, all unchanged"):
        started = time.perf_counter()
        with database.session() as session:
            report = import_file(
                session,
                path=Path(path),
                cipher=cipher,
                compound=CompoundName("bench", "bench"),
                limits=ImportLimits(max_bytes=10**9, max_rows=MAX_ROWS),
                now=datetime.now(UTC),
                recorded_by="bench",
            )
        timings.append(time.perf_counter() - started)
    database.dispose()
    assert report.unchanged == report.rows
    queue.put((timings[0], _peak_rss_mb(), report.rows, timings[1]))


def run_baseline(path: str, queue: Queue) -> None:
    """Child process: only read every cell of the file with openpyxl."""
    from openpyxl import load_workbook

    started = time.perf_counter()
    workbook = load_workbook(path, read_only=True, data_only=True)
    rows = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    queue.put((time.perf_counter() - started, _peak_rss_mb(), rows - 1, 0.0))


def in_child(target: object, *args: object) -> Result:
    context = multiprocessing.get_context("spawn")
    queue: Queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))  # type: ignore[attr-defined]
    process.start()
    result = queue.get(timeout=600)
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="also run against this PostgreSQL server URL")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        file = Path(scratch) / "persons.xlsx"
        make_file(file, options.persons)
        print(f"file: {options.persons} persons, {file.stat().st_size / 1e6:.2f} MB XLSX")
        engines = {"sqlite": lambda run: f"sqlite:///{scratch}/bench{run}.db"}
        if options.postgres:
            engines["postgresql"] = lambda run: _fresh_postgres(options.postgres, run)
        baseline = [in_child(run_baseline, str(file)) for _ in range(options.runs)]
        base_time = statistics.median(run[0] for run in baseline)
        print(
            f"{'openpyxl read only (baseline)':32} median {base_time:6.2f} s   "
            f"peak RSS {statistics.median(run[1] for run in baseline):6.0f} MB"
        )
        for engine, url_for in engines.items():
            results = [in_child(run_import, url_for(run), str(file)) for run in range(options.runs)]
            assert all(run[2] == options.persons for run in results), results
            median = statistics.median(run[0] for run in results)
            print(
                f"{'import into ' + engine:32} median {median:6.2f} s   "
                f"peak RSS {statistics.median(run[1] for run in results):6.0f} MB   "
                f"x{median / base_time:.1f} baseline   "
                f"{options.persons / median:,.0f} persons/s   runs: "
                + ", ".join(f"{run[0]:.2f}" for run in results)
            )
            again = statistics.median(run[3] for run in results)
            print(f"{'re-import unchanged, ' + engine:32} median {again:6.2f} s")


def _fresh_postgres(server_url: str, run: int) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"gate_bench_{run}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
