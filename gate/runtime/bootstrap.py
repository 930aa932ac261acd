"""The composition root: the one place that picks real adapters and wires them together."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devices.drivers import open_driver
from gate.app.actor import Actor
from gate.app.admin_ports import TemplateWriter
from gate.app.clock_watch import ClockWatch
from gate.app.district_feed import (
    CompoundAddress,
    FeedLineSource,
    FeedReader,
    LocalFeedLines,
    Pseudonym,
)
from gate.app.face_camera import FaceCamera, FaceRetention
from gate.app.face_gallery import FaceGallery
from gate.app.lanes import DeviceWatch, LaneBarriers, LaneRunner
from gate.app.outbound import CursorStore, OutboundRelay
from gate.app.pass_ports import PassSigner
from gate.app.pipeline import PassagePipeline
from gate.app.ports import PassageLogReader, UnitOfWorkFactory
from gate.app.retention import RetentionPolicy, run_retention
from gate.app.sync_status import LagWatch
from gate.domain.device_ports import Camera
from gate.domain.documents import normalize
from gate.domain.errors import GateError
from gate.domain.events import EventBus
from gate.domain.faces import FaceThresholds
from gate.domain.model import Direction, DocumentRead
from gate.domain.passes import PassVerifier
from gate.domain.ports import Barrier
from gate.runtime.clock_sources import build_clock_watch
from gate.runtime.data_key import check_data_key, cipher_of
from gate.runtime.feed_worker import FeedSetup, FeedWorkers
from gate.runtime.keyfile import DataKey, load_data_key
from gate.runtime.log_keys import ChainKey, build_anchorer, load_chain_key
from gate.runtime.logging_setup import configure_logging
from gate.runtime.outbound_wiring import build_relays
from gate.runtime.sd_notify import notify
from gate.runtime.settings import Settings
from recognition.faces import FacePool, TemplateMatrix
from recognition.faces.enrolment import PhotoEnroller
from recognition.faces.quality import QualityLimits
from recognition.passes import key_dir
from recognition.passes.gate_verifier import KeyRingVerifier
from recognition.passes.signer import KeyRingSigner
from recognition.qr import build_decoder
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.delivery_cursors import SqlCursorStore
from registry.exporter import write_template
from registry.face_snapshots import SqlFacePassageStore
from registry.face_store import SqlFaceStore
from registry.feed_reader import SqlFeedReader
from registry.log_anchors import Anchorer
from registry.passage_spool import SPOOL_NAME, PassageSpool
from registry.passages import SqlPassageLog, SqlPassageReader
from registry.snapshot import SnapshotSource
from registry.unit_of_work import SqlUnits

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """Everything a command or the web app needs, built from one ``Settings``.

    ``units`` opens a unit of work for an actor (every use case goes through it);
    ``passages`` reads the passage log. Both are built here, once per process.
    ``pass_signer`` and ``pass_verifier`` sign and check QR passes with the key ring in
    ``<data_dir>/pass-keys`` (created on first use).
    ``write_template`` writes the empty import spreadsheet (no database needed).
    ``chain_key`` keys the passage log's chain; ``anchors`` signs its head into the anchor
    file (``gate.runtime.log_keys``; the first anchor is written here, at the switch-over).
    """

    settings: Settings
    database: Database
    data_key: DataKey
    cipher: PersonalDataCipher
    units: UnitOfWorkFactory
    passages: PassageLogReader
    write_template: TemplateWriter
    pass_signer: PassSigner
    pass_verifier: PassVerifier
    feed: FeedReader
    pseudonym: Pseudonym
    feed_lines: FeedLineSource  # the district API's answers: in worker processes by default
    delivery_cursors: CursorStore
    compound: CompoundAddress  # this gate's compound as the feed and the hub name it
    face_store: SqlFaceStore  # consented templates and enrolment photos (registry.face_store)
    face_gallery: FaceGallery  # every template in memory; loaded on first refresh_if_changed
    face_enroller: PhotoEnroller  # enrolment photos through the quality gate, in a worker
    face_passages: SqlFacePassageStore  # face passages' snapshots and guards' corrections
    chain_key: ChainKey
    anchors: Anchorer

    def close(self) -> None:
        """Release connections and end the feed's workers."""
        if isinstance(self.feed_lines, FeedWorkers):
            self.feed_lines.close()
        self.database.dispose()


def open_database(settings: Settings) -> Database:
    """The registry database alone, unchecked: for migrating it (``gate db``)."""
    return Database(settings.effective_database_url)


def bootstrap(settings: Settings, *, require_schema: bool = True) -> Services:
    """Build the services; refuse an unmigrated or foreign schema unless told not to."""
    configure_logging(settings)
    database = Database(settings.effective_database_url)
    try:
        if require_schema:
            database.require_current_schema()
        data_key = load_data_key(settings)
        cipher = cipher_of(data_key)
        if require_schema:  # a key that reads none of the registry's data: refused
            check_data_key(database, data_key, cipher)
        chain_key = load_chain_key(settings, database)
        anchors = build_anchorer(settings, database, chain_key)
        if anchors.log.latest() is None:  # the keyed chain's start, signed before any row
            anchors.anchor_now(utc_now())
    except Exception:
        database.dispose()
        raise
    face_store = SqlFaceStore(database, cipher)
    faces = settings.faces
    feed = SqlFeedReader(database)
    pseudonym = district_pseudonyms(cipher)
    compound = compound_address(settings)
    feed_lines: FeedLineSource = (
        FeedWorkers(
            FeedSetup(settings.effective_database_url, compound, data_key),
            settings.api.feed_workers,
        )
        if settings.api.feed_workers
        else LocalFeedLines(feed, compound, pseudonym)
    )
    return Services(
        settings=settings,
        database=database,
        data_key=data_key,
        cipher=cipher,
        units=SqlUnits(database, cipher),
        passages=SqlPassageReader(database),
        write_template=write_template,
        pass_signer=KeyRingSigner(key_dir(settings.data_dir)),
        pass_verifier=KeyRingVerifier(key_dir(settings.data_dir)),
        feed=feed,
        pseudonym=pseudonym,
        feed_lines=feed_lines,
        delivery_cursors=SqlCursorStore(database),
        compound=compound,
        face_store=face_store,
        face_gallery=FaceGallery(
            TemplateMatrix(), face_store, FaceThresholds(faces.strict, faces.loose, faces.margin)
        ),
        face_enroller=PhotoEnroller(
            QualityLimits(faces.min_face_px, faces.min_sharpness, faces.max_turn)
        ),
        face_passages=SqlFacePassageStore(database, cipher),
        chain_key=chain_key,
        anchors=anchors,
    )


def compound_address(settings: Settings) -> CompoundAddress:
    """The compound's standard address as the settings give it (the feed's items carry it)."""
    compound = settings.compound
    return CompoundAddress(
        code=compound.code,
        name=compound.name,
        province=compound.province,
        city=compound.city,
        district=compound.district,
        street=compound.street,
        community=compound.community,
    )


def district_pseudonyms(cipher: PersonalDataCipher) -> Pseudonym:
    """The district's name for a person or household: keyed, stable, not reversible.

    A keyed hash under this compound's data key with its own label, so it matches no
    document hash; remembered, since the same people pass all day.
    """

    @functools.lru_cache(maxsize=65536)
    def pseudonym(kind: str, ref: str) -> str:
        return cipher.lookup_hash(f"district-{kind}", ref)[:24]

    return pseudonym


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
    """Load the registry snapshot and assemble the pipeline.

    Without ``barrier`` no lane has one: an allowed passage says ``BarrierAction.NO_BARRIER``
    (nothing moved), never that a barrier opened.
    """
    cipher = services.cipher

    def document_hash(document: DocumentRead) -> str:
        return cipher.lookup_hash(document.doc_type.value, normalize(document.number))

    snapshots = SnapshotSource(services.database, clock=clock)
    # A passage the database cannot take is kept in the data folder until it can.
    spool = PassageSpool(services.settings.data_dir / SPOOL_NAME)
    log = SqlPassageLog(services.database, chain_key=services.chain_key.material, spool=spool)
    events = EventBus()
    free_exit = frozenset(lane.id for lane in services.settings.gate.lanes if lane.free_exit)
    chosen_barrier = barrier if barrier is not None else LaneBarriers({}, free_exit=free_exit)
    pipeline = PassagePipeline(
        snapshots=snapshots,
        log=log,
        barrier=chosen_barrier,
        events=events,
        document_hash=document_hash,
        lanes=services.settings.gate.lane_ids,
        clock=clock,
        passes=services.pass_verifier,
        face_auto_open=services.settings.faces.auto_open,
    )
    return Gate(pipeline, snapshots, log, events, chosen_barrier)


@dataclass
class Station:
    """A running gate: the pipeline, each lane's devices and runners, the background upkeep."""

    gate: Gate
    runners: list[LaneRunner]
    watch: DeviceWatch
    drivers: list[Any]
    poll_seconds: float
    housekeeping: Callable[[], None] | None = None  # retention purges, run every few hours
    housekeeping_seconds: float = 6 * 3600
    relays: list[OutboundRelay] = field(default_factory=list)  # events out (MQTT, webhooks)
    lag_watch: LagWatch | None = None  # store-and-forward: warns when the hub falls behind
    cameras: dict[str, Camera] = field(default_factory=dict)  # by lane: enrolment captures
    face_pools: dict[str, FacePool] = field(default_factory=dict)  # by lane: /metrics' queue
    face_gallery: FaceGallery | None = None  # kept in step with enrolments in other processes
    anchors: Anchorer | None = None  # signs the log's head every N passages or minutes
    clock_watch: ClockWatch | None = None  # this clock against NTP or the hub ([clock])
    _stop: threading.Event = field(default_factory=threading.Event)
    _upkeep: threading.Thread | None = None
    _clock_thread: threading.Thread | None = None

    def start(self) -> None:
        """Start reading devices and the upkeep loop (snapshot refresh, device watch)."""
        for relay in self.relays:
            self.gate.events.subscribe(relay.on_event)
            relay.note_devices(self.watch.statuses())
            relay.start()
        for runner in self.runners:
            runner.start()
        self._upkeep = threading.Thread(target=self._upkeep_loop, name="gate-upkeep", daemon=True)
        self._upkeep.start()
        if self.clock_watch is not None:  # its own thread: a silent reference waits seconds
            self._clock_thread = threading.Thread(
                target=self._clock_loop, args=(self.clock_watch,), name="gate-clock", daemon=True
            )
            self._clock_thread.start()

    def _clock_loop(self, watch: ClockWatch) -> None:
        while True:
            try:
                watch.check()
            except Exception:
                logger.exception("checking the clock failed")
            if self._stop.wait(watch.every_seconds):
                return

    def _upkeep_loop(self) -> None:
        next_housekeeping = 0.0
        while not self._stop.wait(self.poll_seconds):
            notify("WATCHDOG=1")  # systemd restarts a service whose upkeep stopped going round
            if self.housekeeping is not None and time.monotonic() >= next_housekeeping:
                next_housekeeping = time.monotonic() + self.housekeeping_seconds
                try:
                    self.housekeeping()
                except Exception:
                    logger.exception(
                        "housekeeping failed; tried again in %.0f s", self.housekeeping_seconds
                    )
            try:  # passages kept locally while the database was away, once it is back
                self.gate.log.flush_spool()
            except Exception:
                logger.exception("writing the passage spool to the database failed")
            try:
                self.gate.snapshots.refresh_if_changed()
            except GateError as exc:
                logger.error("snapshot refresh failed: %s", exc)
            except Exception:
                logger.exception("snapshot refresh failed")
            if self.face_gallery is not None:
                try:
                    self.face_gallery.refresh_if_changed()
                except Exception:
                    logger.exception("reloading the face gallery failed")
            self._anchor()
            self.watch.probe()
            self.watch.check()
            if self.lag_watch is not None:
                try:
                    self.lag_watch.check(utc_now())
                except Exception:
                    logger.exception("checking the hub's lag failed")

    def _anchor(self, *, now: bool = False) -> None:
        if self.anchors is None:
            return
        try:
            if now:
                self.anchors.anchor_now(utc_now())
            else:
                self.anchors.maybe_anchor(utc_now())
        except Exception:
            logger.exception("anchoring the passage log failed; tried again at the next round")

    def stop(self) -> None:
        """Stop everything and release the devices (relays fall back to their wired state)."""
        self._stop.set()
        for runner in self.runners:
            runner.stop()
        if self._upkeep is not None:
            self._upkeep.join(timeout=5)
        if self._clock_thread is not None:
            self._clock_thread.join(timeout=10)
        self._anchor(now=True)  # the head as the lanes left it
        for relay in self.relays:
            relay.stop()
        for driver in self.drivers:
            try:
                driver.close()
            except Exception:
                logger.exception("closing %r failed", driver)


def retention_policy(settings: Settings) -> RetentionPolicy:
    """The retention periods of ``[retention]``."""
    retention = settings.retention
    return RetentionPolicy(
        passage_days=retention.passage_days,
        visitor_days=retention.visitor_days,
        emergency_ended=retention.emergency_ended,
    )


DEVICE_KINDS = ("id_reader", "qr_scanner", "camera", "barrier", "thermometer")


def build_station(services: Services, *, clock: Callable[[], datetime] = utc_now) -> Station:
    """Open every configured device (``DriverNotAvailable`` at once if one cannot be)."""
    settings = services.settings
    opened: dict[tuple[str, str], Any] = {}
    try:
        for lane in settings.gate.lanes:
            for kind in DEVICE_KINDS:
                config = getattr(lane, kind)
                if config is not None:
                    opened[(lane.id, kind)] = open_driver(
                        config, name=f"{lane.id}-{kind}", data_dir=settings.data_dir
                    )
    except Exception:
        for driver in opened.values():
            driver.close()
        raise
    barriers = LaneBarriers(
        {lane: driver for (lane, kind), driver in opened.items() if kind == "barrier"},
        free_exit=frozenset(lane.id for lane in settings.gate.lanes if lane.free_exit),
    )
    gate = build_gate(services, barrier=barriers, clock=clock)
    # One decoder for every camera lane: the QR libraries are imported only if one exists.
    decoder = build_decoder() if any(kind == "camera" for _, kind in opened) else None
    camera_lanes = [lane for lane, kind in opened if kind == "camera"]
    face_cameras, face_pools = face_cameras_of(services, camera_lanes, clock=clock)
    runners = [
        LaneRunner(
            lane.id,
            Direction(lane.direction),
            pipeline=gate.pipeline,
            reader=opened.get((lane.id, "id_reader")),
            scanner=opened.get((lane.id, "qr_scanner")),
            camera=opened.get((lane.id, "camera")),
            decoder=decoder if (lane.id, "camera") in opened else None,
            thermometer=opened.get((lane.id, "thermometer")),
            faces=face_cameras.get(lane.id),
        )
        for lane in settings.gate.lanes
    ]
    watch = DeviceWatch(
        opened,
        silence_after=timedelta(seconds=settings.gate.device_silence_seconds),
        on_alarm=gate.events.publish,
        clock=clock,
    )

    try:
        relays = build_relays(services, clock=clock)
    except Exception:
        for driver in opened.values():
            driver.close()
        raise

    def housekeeping() -> None:
        upkeep = Actor(name="gate-upkeep", origin="service", at=clock())
        report = run_retention(
            retention_policy(settings),
            actor=upkeep,
            units=services.units,
            checkpoints=services.anchors,
        )
        for entry in report.classes:
            if entry.deleted:
                logger.info("retention deleted %d of %s", entry.deleted, entry.name)

    return Station(
        gate=gate,
        runners=runners,
        watch=watch,
        drivers=[*opened.values(), *face_pools.values()],
        face_gallery=services.face_gallery if face_cameras else None,
        poll_seconds=settings.gate.snapshot_poll_seconds,
        housekeeping=housekeeping,
        relays=relays,
        cameras={lane: dev for (lane, kind), dev in opened.items() if kind == "camera"},
        face_pools=face_pools,
        anchors=services.anchors,
        clock_watch=build_clock_watch(settings),
        lag_watch=LagWatch(
            threshold=timedelta(seconds=settings.upstream.lag_warning_seconds),
            cursors=services.delivery_cursors,
            passages=services.passages,
        )
        if settings.upstream.url is not None
        else None,
    )


def face_cameras_of(
    services: Services, camera_lanes: list[str], *, clock: Callable[[], datetime] = utc_now
) -> tuple[dict[str, FaceCamera], dict[str, FacePool]]:
    """The face path of each camera lane and its worker pool, when ``[faces] enabled``
    (else none at all).

    Each camera lane gets its own worker pool (its own tracker: tracks never mix
    cameras), ``[faces] workers`` processes each. The gallery is loaded here, once.
    """
    faces = services.settings.faces
    if not faces.enabled or not camera_lanes:
        return {}, {}
    services.face_gallery.load()
    retention = FaceRetention(
        unknown=timedelta(hours=faces.unknown_snapshot_hours),
        known=timedelta(days=faces.snapshot_days),
    )
    pools = {lane: FacePool(workers=faces.workers, queue_size=1) for lane in camera_lanes}
    cameras = {
        lane: FaceCamera(
            lane,
            frames=pool,
            gallery=services.face_gallery,
            store=services.face_passages,
            clock=clock,
            retention=retention,
            auto_open=faces.auto_open,
        )
        for lane, pool in pools.items()
    }
    return cameras, pools
