"""Operations: ``/readyz`` for a supervisor or load balancer, ``/metrics`` for Prometheus.

``/healthz`` (in ``api.app``) says the process is up and its database answers.
``/readyz`` says whether this gate can decide passages now: the database answers, the
registry snapshot is current (checked within ``3 x snapshot_poll_seconds``, at least 10 s),
and no configured device is offline; 503 with the failing checks otherwise. It names
device kinds and states, never their details (sources, addresses).

``/metrics`` (an API key with ``metrics:read``, or a signed-in guard) is the Prometheus
text format, counts only, no personal data:

    gate_decision_seconds{credential_kind}          histogram: credential in -> barrier
    gate_passages_total{credential_kind,outcome}    counter
    gate_device_up{lane,kind}                       1 unless offline
    gate_relay_behind_passages{relay}               events out / the hub: not yet delivered
    gate_relay_lag_seconds{relay}                   age of the oldest undelivered passage
    gate_snapshot_age_seconds                       since the snapshot was known current
    gate_clock_offset_seconds{source}               NTP or the hub's time minus this clock
    gate_face_queue{lane,state}                     the face workers' waiting / in_flight
    gate_face_frames_total{lane,result}             processed, dropped, failed
    gate_face_templates                             templates in the gallery

The counters are this process's since it started (Prometheus' ``rate()`` handles restarts).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.web.deps import web
from api.web.machine_auth import machine_or_staff
from gate.app.actor import Actor
from gate.app.registry_io import registry_schema
from gate.app.sync_status import UPSTREAM, relay_lags
from gate.domain.api_scopes import ApiScope
from gate.domain.device_ports import DeviceState
from gate.domain.errors import GateError
from gate.domain.events import GateEvent, PassageEvent
from gate.runtime.bootstrap import Services, Station

router = APIRouter()
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Buckets for the decision's latency: a card is a few ms, a face tens to hundreds.
DECISION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class GateMetrics:
    """This process's metrics: an event-bus listener and a collector read at each scrape."""

    def __init__(self, services: Services, station: Station | None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self.decisions = Histogram(
            "gate_decision_seconds",
            "Credential in to barrier commanded, by credential kind",
            ["credential_kind"],
            buckets=DECISION_BUCKETS,
            registry=self.registry,
        )
        self.passages = Counter(
            "gate_passages",
            "Passages logged by this process, by credential kind and outcome",
            ["credential_kind", "outcome"],
            registry=self.registry,
        )
        self.registry.register(_StationCollector(services, station))

    def on_event(self, event: GateEvent) -> None:
        """Event-bus listener: one passage counted and timed."""
        if not isinstance(event, PassageEvent) or event.record is None:
            return
        entry = event.record.entry
        kind = entry.credential_kind.value
        self.passages.labels(kind, entry.decision.outcome.value).inc()
        if event.seconds is not None:
            self.decisions.labels(kind).observe(event.seconds)

    def text(self) -> bytes:
        """The metrics in the Prometheus text format."""
        with self._lock:  # one scrape at a time reads the station
            return generate_latest(self.registry)


class _StationCollector(Collector):
    """Gauges read from the station when scraped."""

    def __init__(self, services: Services, station: Station | None) -> None:
        self._services = services
        self._station = station

    def collect(self) -> Iterator[Metric]:
        station = self._station
        devices = GaugeMetricFamily("gate_device_up", "1 unless offline", labels=["lane", "kind"])
        snapshot_age = GaugeMetricFamily(
            "gate_snapshot_age_seconds", "Since the registry snapshot was known current"
        )
        queue = GaugeMetricFamily(
            "gate_face_queue", "Frames at the face workers", labels=["lane", "state"]
        )
        frames = CounterMetricFamily(
            "gate_face_frames", "Frames the face workers took", labels=["lane", "result"]
        )
        if station is not None:
            for status in station.watch.statuses():
                devices.add_metric(
                    [status.lane, status.kind],
                    0 if status.health.state is DeviceState.OFFLINE else 1,
                )
            snapshot_age.add_metric([], station.gate.snapshots.age_seconds())
            for lane, pool in station.face_pools.items():
                stats = pool.stats()
                queue.add_metric([lane, "waiting"], stats.waiting)
                queue.add_metric([lane, "in_flight"], stats.in_flight)
                frames.add_metric([lane, "processed"], stats.processed)
                frames.add_metric([lane, "dropped"], stats.dropped)
                frames.add_metric([lane, "failed"], stats.failed)
        clock = GaugeMetricFamily(
            "gate_clock_offset_seconds",
            "The reference's time minus this clock at the last check ([clock])",
            labels=["source"],
        )
        reading = station.clock_watch.last if station and station.clock_watch else None
        if reading is not None:
            clock.add_metric([reading.source], reading.offset_seconds)
        yield devices
        yield snapshot_age
        yield clock
        yield queue
        yield frames
        templates = GaugeMetricFamily("gate_face_templates", "Templates in the face gallery")
        templates.add_metric([], len(self._services.face_gallery))
        yield templates
        yield from self._relays()

    def _relays(self) -> Iterator[Metric]:
        behind = GaugeMetricFamily(
            "gate_relay_behind_passages", "Passages not yet delivered", labels=["relay"]
        )
        lag = GaugeMetricFamily(
            "gate_relay_lag_seconds", "Age of the oldest passage not delivered", labels=["relay"]
        )
        services = self._services
        expected = [UPSTREAM] if services.settings.upstream.url is not None else []
        try:
            lags = relay_lags(
                cursors=services.delivery_cursors, passages=services.passages, expected=expected
            )
        except GateError:
            lags = []  # the database does not answer: /readyz says so
        now = datetime.now(UTC)
        for relay in lags:
            behind.add_metric([relay.name], relay.behind)
            lag.add_metric([relay.name], relay.lag(now).total_seconds())
        yield behind
        yield lag


MetricsReader = Annotated[Actor, Depends(machine_or_staff(ApiScope.METRICS_READ))]


@router.get("/metrics")
def metrics(request: Request, _caller: MetricsReader) -> Response:
    """Prometheus text format (see the module docstring)."""
    gate_metrics: GateMetrics = request.app.state.metrics
    return Response(gate_metrics.text(), media_type=CONTENT_TYPE)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """200 when this gate can decide passages now; 503 naming what is not ready."""
    context = web(request)
    services, station = context.services, context.station
    checks: dict[str, Any] = {}
    actor = Actor("readyz", "service", datetime.now(UTC))
    try:
        registry_schema(actor=actor, units=services.units)
        checks["database"] = "ok"
    except GateError:
        checks["database"] = "unavailable"
    if station is not None:
        limit = max(10.0, 3 * services.settings.gate.snapshot_poll_seconds)
        age = station.gate.snapshots.age_seconds()
        checks["snapshot"] = "ok" if age <= limit else f"stale ({age:.0f} s)"
        offline = [
            f"{status.lane}/{status.kind}"
            for status in station.watch.statuses()
            if status.health.state is DeviceState.OFFLINE
        ]
        checks["devices"] = "ok" if not offline else {"offline": offline}
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
