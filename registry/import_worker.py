"""Parse an import file in a worker process that may grow only so far.

The service's lanes run in the serving process, so a spreadsheet is never parsed there:
``parse_in_worker`` forks a worker from the forkserver (a clean process, not a fork of
the threaded server), which lowers its own priority, caps its address space at what it
holds plus ``limits.worker_memory_bytes`` (``RLIMIT_AS``), checks an XLSX's archive
(``registry.import_archive``) and parses every row (``registry.importer.parse_file``).
Only the parsed records and the problems come back, through a pipe.

A worker that runs out of its memory (``MemoryError`` under the limit) or time, or dies,
is a refusal of the file (``import_memory``, ``import_timeout``, ``import_failed``),
never an error of the service.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import threading
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from gate.app.registry_values import ImportLimits, ImportMapping, file_refused
from gate.domain.errors import ImportNeedsMapping, ImportProblem, ImportRejected
from registry.records import PersonRecord

logger = logging.getLogger(__name__)

Parsed = tuple[list[tuple[int, PersonRecord]], list[str], list[ImportProblem]]
MiB = 1 << 20
NICENESS = 10
PRELOAD = ["__main__", "registry.importer", "registry.import_archive", "openpyxl"]
# Two uploads at once are two workers; a third waits rather than adding a third budget.
_WORKERS = threading.BoundedSemaphore(2)


def parse_in_worker(
    path: Path, *, limits: ImportLimits, today: date, mapping: ImportMapping | None = None
) -> Parsed:
    """Check and parse ``path`` in a worker; ``ImportRejected`` for the file or its worker.

    ``ImportNeedsMapping`` (what the sheets look like) when its headings were not found.
    """
    context = multiprocessing.get_context("forkserver")
    # Workers fork from the server with the parser loaded (0.02 s, not a second of
    # imports each); it applies if this is the first use of the forkserver.
    context.set_forkserver_preload(PRELOAD)
    with _WORKERS:
        receive, send = context.Pipe(duplex=False)
        worker = context.Process(
            target=_work,
            args=(send, str(path), limits, today, mapping),
            name="gate-import",
            daemon=True,
        )
        worker.start()
        send.close()
        try:
            outcome = _outcome(receive, worker, limits)
        finally:
            receive.close()
            if worker.is_alive():
                worker.kill()
            worker.join()
            worker.close()
    kind, payload = outcome
    if kind == "parsed":
        parsed: Parsed = payload
        return parsed
    if kind == "rejected":
        raise ImportRejected(payload)
    if kind == "unmapped":
        assert isinstance(payload, ImportNeedsMapping)
        raise payload
    if kind == "memory":
        raise file_refused(
            "import_memory",
            f"解析该文件所需内存超过 {limits.worker_memory_bytes // MiB} MiB 的上限",
            limit=limits.worker_memory_bytes,
        )
    if kind == "timeout":
        raise file_refused(
            "import_timeout",
            f"解析该文件超过 {limits.worker_seconds:g} 秒的上限",
            limit=limits.worker_seconds,
        )
    raise file_refused("import_failed", f"无法解析该文件 ({payload})")


def _outcome(receive: Connection, worker: Any, limits: ImportLimits) -> tuple[str, Any]:
    if not receive.poll(limits.worker_seconds):
        logger.warning("import worker timed out", extra={"seconds": limits.worker_seconds})
        return "timeout", None
    try:
        outcome: tuple[str, Any] = receive.recv()
    except (EOFError, OSError):
        worker.join(5)
        logger.warning("import worker died", extra={"exitcode": worker.exitcode})
        return "failed", f"exit {worker.exitcode}"
    return outcome


def _work(
    send: Connection,
    path: str,
    limits: ImportLimits,
    today: date,
    mapping: ImportMapping | None = None,
) -> None:
    """The worker: lower priority, cap memory, check the archive, parse, send the result."""
    os.nice(NICENESS)
    # Load the parser first (openpyxl pulls in numpy, whose BLAS maps its buffers at
    # import): the budget is for the file, on top of what the code itself takes.
    import openpyxl  # noqa: F401

    import registry.import_archive
    import registry.importer  # noqa: F401

    budget = _address_space() + limits.worker_memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    outcome: tuple[str, Any]
    try:
        outcome = "parsed", _parse(Path(path), limits, today, mapping)
    except ImportNeedsMapping as unmapped:
        outcome = "unmapped", unmapped
    except ImportRejected as rejected:
        outcome = "rejected", list(rejected.problems)
    except MemoryError:
        outcome = "memory", None
    except Exception as exc:  # anything else a hostile file provokes ends here, named
        logger.warning("import worker failed", extra={"error": type(exc).__name__})
        outcome = "failed", type(exc).__name__
    try:
        send.send(outcome)
    except MemoryError:
        send.send(("memory", None))
    finally:
        send.close()


def _parse(path: Path, limits: ImportLimits, today: date, mapping: ImportMapping | None) -> Parsed:
    from registry.import_archive import check_archive
    from registry.importer import parse_file

    if path.suffix.lower() == ".xlsx":
        check_archive(path, limits)
    return parse_file(path, max_rows=limits.max_rows, today=today, mapping=mapping)


def _address_space() -> int:
    """This process's mapped address space now (``VmSize``), in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize in /proc/self/status")
