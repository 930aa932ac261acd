"""The FastAPI application factory; collaborators come in, nothing is built at import."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.deps import get_services, machine
from api.schemas import DevicePublic, Health, RegistryStatsPublic
from api.web import (
    auth,
    district,
    district_controls,
    office,
    office_faces,
    ops,
    phone,
    report,
    terminal,
    visit,
)
from api.web.deps import TEMPLATES, WebContext
from api.web.errors import install_page_errors
from api.web.feed import RecentCards
from api.web.headers import SecurityHeaders
from api.web.hub import install_hub
from api.web.limits import BodyLimit
from api.web.machine_auth import install_api_errors, machine_or_staff
from api.web.text_input import RefuseNul
from gate.app.actor import Actor
from gate.app.passage_tail import PassageTail
from gate.app.registry_io import registry_schema, registry_stats
from gate.app.throttle import LoginThrottle, SubmissionThrottle
from gate.domain.api_scopes import ApiScope
from gate.domain.errors import GateError, RegistryUnavailable
from gate.runtime.bootstrap import Services, Station

STATIC = Path(__file__).resolve().parent / "static"
ServicesDep = Annotated[Services, Depends(get_services)]
CallerDep = Annotated[Actor, Depends(machine)]


def create_app(services: Services, station: Station | None = None) -> FastAPI:
    """Build the app around already-built services (and a station, when devices run)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if station is not None:
            station.start()
        try:
            yield
        finally:
            app.state.web.staged_imports.close()
            if station is not None:
                station.stop()

    app = FastAPI(
        title="Compound gate",
        version="0.1.0",
        description="The gate's machine API: see docs/district-api.md in the repository.",
        lifespan=lifespan,
        docs_url=None,  # served below from local files: a gate box is often offline
        redoc_url=None,
    )
    app.state.services = services
    app.state.station = station
    settings = services.settings
    app.state.web = WebContext(
        services=services,
        station=station,
        templates=Jinja2Templates(directory=TEMPLATES),
        idle_lock=timedelta(minutes=settings.web.idle_lock_minutes),
        secure_cookies=settings.web.secure_cookies,
        session_lifetime=timedelta(hours=settings.web.session_hours),
        login_throttle=LoginThrottle(trusted=settings.web.terminal_addresses),
        login_origins=frozenset(settings.web.login_origins),
        api_throttle=SubmissionThrottle(
            limit=settings.api.requests_per_minute, window=timedelta(minutes=1)
        ),
        passage_tail=PassageTail(services.passages),
    )
    app.state.recent_cards = RecentCards()
    app.state.metrics = ops.GateMetrics(services, station)
    if station is not None:
        station.gate.events.subscribe(app.state.recent_cards.on_event)
        station.gate.events.subscribe(app.state.metrics.on_event)
    app.add_middleware(RefuseNul)  # inside BodyLimit: reads only bodies already capped
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.web.max_body_kb * 1024,
        upload_paths={
            "/office/import": int(settings.imports.max_file_mb * 1_000_000) + 65536,
            "/api/v1/ingest": int(settings.hub.max_body_mb * 1_000_000),
            office_faces.PHOTO_PATH: office_faces.UPLOAD_BODY_LIMIT,
        },
    )
    # Outermost: the client address and scheme every layer below sees are the browser's
    # (a trusted proxy's X-Forwarded-For and -Proto; anyone else's are ignored).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.web.trusted_proxies))
    app.add_middleware(SecurityHeaders)  # CSP, nosniff, frames refused (api/web/headers.py)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")
    app.add_api_route("/docs", api_docs, methods=["GET"], include_in_schema=False)
    app.include_router(auth.router)
    app.include_router(terminal.router)
    app.include_router(office.router)
    app.include_router(report.router)
    app.include_router(phone.router)
    app.include_router(visit.router)
    app.include_router(district.router)
    app.include_router(district_controls.router)
    app.include_router(ops.router)
    if settings.hub.enabled:
        install_hub(app)
    install_page_errors(app)
    install_api_errors(app)
    app.add_exception_handler(RegistryUnavailable, _unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(GateError, _gate_error)  # type: ignore[arg-type]
    app.add_api_route("/healthz", healthz, methods=["GET"])
    app.add_api_route("/api/v1/registry/stats", stats, methods=["GET"])
    app.add_api_route("/api/v1/devices", devices, methods=["GET"])
    return app


def api_docs() -> HTMLResponse:
    """The interactive API docs, with Swagger UI from the installed package (no CDN)."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Compound gate API",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/docs-assets/favicon-32x32.png",
    )


async def _unavailable(_request: Request, exc: RegistryUnavailable) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=503)


async def _gate_error(_request: Request, exc: GateError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=400)


def healthz(services: ServicesDep, caller: CallerDep) -> Health:
    """Liveness: the database answers and says which schema it is at (public: no counts)."""
    schema = registry_schema(actor=caller, units=services.units)
    return Health(status="ok", database=schema.database, schema_revision=schema.revision)


def stats(
    services: ServicesDep,
    caller: Annotated[Actor, Depends(machine_or_staff(ApiScope.REGISTRY_READ))],
) -> RegistryStatsPublic:
    """Counts of buildings, units, households, persons and quarantine, now."""
    counts = registry_stats(actor=caller, units=services.units)
    return RegistryStatsPublic(**dataclasses.asdict(counts))


def devices(
    request: Request,
    _caller: Annotated[Actor, Depends(machine_or_staff(ApiScope.DEVICES_READ))],
) -> list[DevicePublic]:
    """Every configured device with its health (empty when the service runs without devices)."""
    station: Station | None = request.app.state.station
    if station is None:
        return []
    return [
        DevicePublic(
            lane=status.lane,
            kind=status.kind,
            name=status.name,
            state=status.health.state.value,
            detail=status.health.detail,
            last_seen=status.health.last_seen,
            silent_for=status.silent_for,
        )
        for status in station.watch.statuses()
    ]
