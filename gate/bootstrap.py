"""The composition root: the one place that picks real adapters and wires them together."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from devices.memory_barrier import RecordingBarrier
from gate.documents import normalize
from gate.events import EventBus
from gate.keyfile import DataKey, load_data_key
from gate.model import DocumentRead
from gate.pipeline import PassagePipeline
from gate.ports import Barrier
from gate.settings import Settings
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.passages import SqlPassageLog
from registry.snapshot import SnapshotSource


@dataclass(frozen=True)
class Services:
    """Everything a command or the web app needs, built from one ``Settings``."""

    settings: Settings
    database: Database
    data_key: DataKey
    cipher: PersonalDataCipher

    def close(self) -> None:
        """Release connections."""
        self.database.dispose()


def bootstrap(settings: Settings, *, require_schema: bool = True) -> Services:
    """Build the services; refuse an unmigrated or foreign schema unless told not to."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic narrates every schema check at INFO; only its warnings matter here.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.root.level))
    database = Database(settings.effective_database_url)
    try:
        if require_schema:
            database.require_current_schema()
        data_key = load_data_key(settings)
    except Exception:
        database.dispose()
        raise
    return Services(
        settings=settings,
        database=database,
        data_key=data_key,
        cipher=PersonalDataCipher(data_key.material),
    )


def utc_now() -> datetime:
    """The clock the gate runs on."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Gate:
    """The passage machinery of one gate, wired to its adapters."""

    pipeline: PassagePipeline
    snapshots: SnapshotSource
    log: SqlPassageLog
    events: EventBus
    barrier: Barrier


def build_gate(
    services: Services,
    *,
    barrier: Barrier | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Gate:
    """Load the registry snapshot and assemble the pipeline (barrier: recording by default)."""
    cipher = services.cipher

    def document_hash(document: DocumentRead) -> str:
        return cipher.lookup_hash(document.doc_type.value, normalize(document.number))

    snapshots = SnapshotSource(services.database, clock=clock)
    log = SqlPassageLog(services.database)
    events = EventBus()
    chosen_barrier = barrier if barrier is not None else RecordingBarrier()
    pipeline = PassagePipeline(
        snapshots=snapshots,
        log=log,
        barrier=chosen_barrier,
        events=events,
        document_hash=document_hash,
        lanes=services.settings.gate.lane_ids,
        clock=clock,
    )
    return Gate(pipeline, snapshots, log, events, chosen_barrier)
