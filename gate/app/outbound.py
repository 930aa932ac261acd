"""Events out: every passage, in log order, to a sink (an MQTT broker, a webhook), resumably.

A relay is a puller of the district feed (``gate.app.district_feed``) that pushes what it
reads: it keeps a cursor of its own in the database, reads the committed passages after
it (the feed's cursor contract: never a hole, never a row twice), hands them to its sink
in batches as feed items (the same JSON as ``GET /api/v1/passages``), and moves the cursor
past the prefix the sink acknowledged. So a broker or a webhook that is down loses
nothing: the relay backs off, tries again, and resumes from its cursor, after a restart
of the service too. Delivery is at least once: a batch that was sent but whose
acknowledgement was lost is sent again, and the receiver drops what it has by ``uuid``.

The passage path never waits for a relay: the pipeline publishes its event on the
in-process bus, which only sets the relay's wake-up flag; the relay works in a thread of
its own, and passages written by other processes (the CLI, a second gate) are picked up
by polling.

Device health goes the same way: a change of a device's state is kept as the latest
status of that device and handed to the sink (retained, for MQTT) on the next round.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gate.app.district_feed import (
    CompoundAddress,
    FeedReader,
    Pseudonym,
    cursor_of,
    read_page,
)
from gate.domain.backoff import Backoff
from gate.domain.device_ports import DeviceAlarm, DeviceStatus
from gate.domain.events import GateEvent, PassageEvent

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The sink took none of the batch (down, refused, timed out); the relay backs off."""


class ResumeFrom(Exception):
    """The receiver holds the log only up to ``seq``: send again from there.

    A hub says so when a batch would leave a gap (the edge's cursor ran ahead of what the
    hub kept, e.g. the hub was restored from a backup).
    """

    def __init__(self, seq: int) -> None:
        super().__init__(f"the receiver expects passages after seq {seq}")
        self.seq = seq


class OutboundSink(Protocol):
    """Where a relay delivers: ``api.outbound`` has MQTT and webhooks."""

    name: str

    def deliver(self, items: Sequence[dict[str, Any]]) -> int:
        """Send feed items in order; how many (a prefix) the receiver acknowledged.

        ``DeliveryFailed`` when it acknowledged none of them.
        """
        ...

    def device_status(self, status: dict[str, Any]) -> None:
        """Send one device's current status (``DeliveryFailed`` if it could not)."""
        ...

    def close(self) -> None:
        """Let go of connections."""
        ...


@dataclass(frozen=True)
class SavedCursor:
    """A relay's cursor as kept, and when it last moved."""

    name: str
    seq: int
    updated_at: datetime


class CursorStore(Protocol):
    """Each relay's cursor: the last ``seq`` its sink acknowledged (``registry``)."""

    def saved(self) -> Sequence[SavedCursor]:
        """Every relay's cursor, by name."""
        ...

    def load(self, name: str) -> int | None:
        """The cursor saved under ``name``; None before its first delivery."""
        ...

    def save(self, name: str, seq: int) -> None:
        """Keep ``seq`` as the cursor of ``name``, durably."""
        ...


def device_status_item(status: DeviceStatus, *, compound: str, silent: bool) -> dict[str, Any]:
    """A device's status as it goes out (retained on MQTT)."""
    health = status.health
    return {
        "compound_id": compound,
        "lane": status.lane,
        "device": status.kind,
        "name": status.name,
        "state": health.state.value,
        "silent": silent,
        "silent_for_seconds": round(status.silent_for, 1) if status.silent_for else None,
        "detail": health.detail,
        "last_seen": health.last_seen.isoformat() if health.last_seen else None,
    }


@dataclass
class RelayState:
    """What ``gate sync status`` and the terminal read of a relay."""

    name: str
    cursor: int = 0
    delivered: int = 0
    failures: int = 0  # in a row; 0 once a delivery succeeded
    last_error: str | None = None
    last_delivery_at: datetime | None = None


@dataclass
class OutboundRelay:
    """Delivers the log after its cursor to one sink (see the module docstring).

    ``head`` gives where a relay with no cursor yet starts: the log's last ``seq`` for a
    subscriber (what happens from now on, not years of history), the hub's own cursor
    for store-and-forward (everything the hub does not have yet).
    """

    sink: OutboundSink
    reader: FeedReader
    cursors: CursorStore
    compound: CompoundAddress
    pseudonym: Pseudonym
    head: Callable[[], int]
    clock: Callable[[], datetime]
    batch: int = 200
    poll_seconds: float = 1.0
    backoff: Backoff = field(default_factory=Backoff)
    state: RelayState = field(init=False)
    _wake: threading.Event = field(default_factory=threading.Event, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _devices: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict, init=False)
    _devices_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _loaded: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.state = RelayState(self.sink.name)

    # --- the bus side: called on the passage path, so it only takes note ---------------
    def on_event(self, event: GateEvent) -> None:
        """Bus listener: a passage wakes the relay; a device alarm is kept for sending."""
        if isinstance(event, DeviceAlarm):
            key = (event.status.lane, event.status.kind)
            self.note_devices([event.status], silent={key} if event.silent else set())
        elif not isinstance(event, PassageEvent) or event.record is None:
            return
        self._wake.set()

    def note_devices(
        self, statuses: Sequence[DeviceStatus], *, silent: set[tuple[str, str]] | None = None
    ) -> None:
        """Keep these statuses as the latest of their devices, to be sent next round."""
        silent_keys = silent or set()
        with self._devices_lock:
            for status in statuses:
                key = (status.lane, status.kind)
                self._devices[key] = device_status_item(
                    status, compound=self.compound.code, silent=key in silent_keys
                )
        self._wake.set()

    # --- the relay's own thread -------------------------------------------------------
    def start(self) -> None:
        """Run in a thread until ``stop``; a relay without a cursor starts at ``head()`` now.

        If the start point cannot be had now (``head`` asks a hub that is down), the
        thread keeps asking.
        """
        try:
            self._cursor()
        except DeliveryFailed as failure:
            self._failed(str(failure))
        self._thread = threading.Thread(
            target=self.run, name=f"relay-{self.sink.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop after the round in progress and let go of the sink."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sink.close()

    def run(self) -> None:
        """Deliver, wait for a passage or the poll interval, again; back off on failure."""
        while not self._stop.is_set():
            try:
                self.deliver_pending()
            except DeliveryFailed as failure:
                self._failed(str(failure))
                self._stop.wait(self.backoff.delay(self.state.failures))
                continue
            except Exception as error:  # a bug or the database: log it, keep trying
                logger.exception("relay %s failed", self.sink.name)
                self._failed(f"{type(error).__name__}: {error}")
                self._stop.wait(self.backoff.delay(self.state.failures))
                continue
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _failed(self, reason: str) -> None:
        self.state.failures += 1
        self.state.last_error = reason
        if self.state.failures == 1 or self.state.failures % 20 == 0:
            logger.warning(
                "relay %s: %s (failure %d in a row; nothing is lost, it resumes from seq %d)",
                self.sink.name,
                reason,
                self.state.failures,
                self.state.cursor,
            )

    def deliver_pending(self) -> int:
        """Send the device statuses kept, then every passage after the cursor; how many.

        ``DeliveryFailed`` when the sink took nothing of a batch (what it took is kept).
        """
        self._send_devices()
        cursor = self._cursor()
        sent = 0
        while True:
            page = read_page(
                cursor_of(cursor),
                limit=self.batch,
                reader=self.reader,
                compound=self.compound,
                pseudonym=self.pseudonym,
            )
            if not page.items:
                break
            try:
                taken = self.sink.deliver(page.items)
            except ResumeFrom as resume:
                if resume.seq >= cursor:  # only ever backwards: never skip a passage
                    raise DeliveryFailed(str(resume)) from None
                logger.warning("relay %s: %s; resending", self.sink.name, resume)
                cursor = resume.seq
                self.cursors.save(self.sink.name, cursor)
                self.state.cursor = cursor
                continue
            if taken > 0:
                cursor = int(page.items[taken - 1]["seq"])
                self.cursors.save(self.sink.name, cursor)
                self.state.cursor, sent = cursor, sent + taken
                self.state.delivered += taken
                self.state.last_delivery_at = self.clock()
            if taken < len(page.items):
                raise DeliveryFailed(f"{taken} of {len(page.items)} acknowledged")
            if page.count < self.batch:
                break
        if self.state.failures:
            logger.info("relay %s delivering again from seq %d", self.sink.name, cursor)
        self.state.failures, self.state.last_error = 0, None
        return sent

    def _cursor(self) -> int:
        if self._loaded:
            return self.state.cursor
        saved = self.cursors.load(self.sink.name)
        if saved is None:
            saved = self.head()
            self.cursors.save(self.sink.name, saved)
        self.state.cursor, self._loaded = saved, True
        return saved

    def _send_devices(self) -> None:
        with self._devices_lock:
            pending = dict(self._devices)
        for key, status in pending.items():
            self.sink.device_status(status)
            with self._devices_lock:
                if self._devices.get(key) is status:
                    del self._devices[key]


def relay_states(relays: Sequence[OutboundRelay]) -> Mapping[str, RelayState]:
    """Each relay's state by its sink's name."""
    return {relay.sink.name: relay.state for relay in relays}
