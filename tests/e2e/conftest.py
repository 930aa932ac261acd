"""A small compound and a gate built on it, on each database engine; a headless browser."""

from __future__ import annotations

import concurrent.futures.thread
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from devices.memory_barrier import RecordingBarrier
from gate.app.pipeline import PassageResult
from gate.domain.documents import DocumentType
from gate.domain.events import GateEvent, PassageEvent
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.people import HealthStatus, LegalBasis, Sex
from gate.runtime.bootstrap import Gate, Services, build_gate
from gate.runtime.settings import Settings, load_settings
from registry.records import PersonRecord, StatusEntry
from registry.service import RegistryWriter, add_building, get_or_create_compound
from tests.conftest import THREAD_ALLOWANCES
from tests.registry.builders import resident_number as number

START = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
CHROMIUM = Path("/usr/bin/chromium")  # Debian's build; the browser tests skip without it


RESIDENT_A = number("19800101", "003")  # 1号楼1单元101
RESIDENT_B = number("19820202", "004")  # same household
QUARANTINED = number("19700303", "005")  # 1号楼1单元202, home quarantine
OUTSIDER = number("19900404", "007")  # not registered


class Clock:
    """A settable clock: tests move time, the gate reads it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class GateUnderTest:
    """The gate with its recording barrier, the events it published and its clock."""

    services: Services
    gate: Gate
    barrier: RecordingBarrier
    clock: Clock
    events: list[PassageEvent] = field(default_factory=list)

    def card(
        self, doc_number: str, direction: Direction, *, lane: str = "main", **kwargs: object
    ) -> PassageResult:
        credential = Credential(
            CredentialKind.ID_CARD,
            document=DocumentRead(DocumentType.RESIDENT_ID, doc_number, **kwargs),  # type: ignore[arg-type]
        )
        return self.gate.pipeline.process(credential, lane=lane, direction=direction)


def same_gate(services: Services, **sections: Any) -> Settings:
    """The test's settings (its data folder, database and key) with other sections, e.g.
    ``gate={"lanes": [...]}``: a second service over the same registry."""
    base = services.settings
    return load_settings(
        data_dir=base.data_dir,
        database_url=base.effective_database_url,
        secrets={"key_file": base.secrets.key_file},
        **sections,
    )


def populate(services: Services) -> None:
    """Two residents of one household and a quarantined neighbour."""
    with services.database.session() as session:
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        add_building(session, compound=compound, label="1", units=["1"])
        writer = RegistryWriter(
            session, cipher=services.cipher, compound=compound, now=START, recorded_by="test"
        )
        for doc_number, name, sex, room, status in (
            (RESIDENT_A, "王小明", Sex.MALE, "101", None),
            (RESIDENT_B, "李梅", Sex.FEMALE, "101", None),
            (
                QUARANTINED,
                "张三丰",
                Sex.MALE,
                "202",
                StatusEntry(
                    HealthStatus.HOME_QUARANTINE,
                    date(2026, 11, 20),
                    date(2026, 12, 3),
                    LegalBasis.PUBLIC_HEALTH_EMERGENCY,
                ),
            ),
        ):
            writer.apply(
                PersonRecord(
                    name=name,
                    sex=sex,
                    doc_type=DocumentType.RESIDENT_ID,
                    doc_number=doc_number,
                    building="1",
                    unit="1",
                    room=room,
                    status=status,
                )
            )


@pytest.fixture
def gate_under_test(services: Services) -> Iterator[GateUnderTest]:
    """A populated registry and its gate, clock at 10:00 local time."""
    populate(services)
    clock = Clock(START)
    barrier = RecordingBarrier()
    gate = build_gate(services, barrier=barrier, clock=clock)
    under_test = GateUnderTest(services, gate, barrier, clock)

    def record(event: GateEvent) -> None:
        if isinstance(event, PassageEvent):
            under_test.events.append(event)

    unsubscribe = gate.events.subscribe(record)
    yield under_test
    unsubscribe()


@contextmanager
def live_server(app: object, name: str) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free port; its base URL until the end."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,  # type: ignore[arg-type]
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=2,  # the feed's event streams never end by themselves
        )
    )
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        # Playwright's event loop (in this thread) starts default-executor workers on first
        # use and keeps them as long as the browser lives: they are its, not a test's.
        THREAD_ALLOWANCES.append(_playwright_worker)
        try:
            yield InstrumentedBrowser(launched)
        finally:
            THREAD_ALLOWANCES.remove(_playwright_worker)
            launched.close()


class InstrumentedBrowser:
    """The browser, whose pages let the tests' own probes run despite the pages' CSP.

    ``page.wait_for_function("...")`` evaluates a string in the page, which the service's
    Content-Security-Policy (no eval, no inline script) rightly refuses; the tests' pages
    bypass the policy for their probes. ``strict_page`` keeps it: the test that proves the
    pages work under their policy (``test_browser_csp.py``) uses it.
    """

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_page(self, **options: Any) -> Any:
        return self._browser.new_page(**{"bypass_csp": True, **options})

    def new_context(self, **options: Any) -> Any:
        return self._browser.new_context(**{"bypass_csp": True, **options})

    def strict_page(self, **options: Any) -> Any:
        return self._browser.new_page(**options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


def _playwright_worker(thread: threading.Thread) -> bool:
    """An event loop's default-executor worker (the only kind Playwright leaves running)."""
    target = getattr(thread, "_target", None)
    return thread.name.startswith("asyncio_") and target is concurrent.futures.thread._worker
