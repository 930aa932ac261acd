"""The FastAPI application factory; collaborators come in, nothing is built at import."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.deps import get_services, get_session
from api.schemas import Health, RegistryStatsPublic
from gate.bootstrap import Services
from gate.errors import GateError, RegistryUnavailable
from registry.service import registry_stats

SessionDep = Annotated[Session, Depends(get_session)]
ServicesDep = Annotated[Services, Depends(get_services)]


def create_app(services: Services) -> FastAPI:
    """Build the app around already-built services."""
    app = FastAPI(title="Compound gate", version="0.1.0")
    app.state.services = services
    app.add_exception_handler(RegistryUnavailable, _unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(GateError, _gate_error)  # type: ignore[arg-type]
    app.add_api_route("/healthz", healthz, methods=["GET"])
    app.add_api_route("/api/v1/registry/stats", stats, methods=["GET"])
    return app


async def _unavailable(_request: Request, exc: RegistryUnavailable) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=503)


async def _gate_error(_request: Request, exc: GateError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=400)


def healthz(services: ServicesDep) -> Health:
    """Liveness: the database answers and says which schema it is at."""
    revision = services.database.current_revision()
    return Health(status="ok", database=services.database.dialect, schema_revision=revision)


def stats(session: SessionDep) -> RegistryStatsPublic:
    """Counts of buildings, units, households, persons and quarantine, now."""
    counts = registry_stats(session, at=datetime.now(UTC))
    return RegistryStatsPublic(**dataclasses.asdict(counts))
