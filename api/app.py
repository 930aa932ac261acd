"""The FastAPI application factory; collaborators come in, nothing is built at import."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.schemas import Health, RegistryStatsPublic
from gate.bootstrap import Services
from gate.errors import GateError, RegistryUnavailable
from registry.service import registry_stats


def create_app(services: Services) -> FastAPI:
    """Build the app around already-built services."""
    app = FastAPI(title="Compound gate", version="0.1.0")
    app.state.services = services

    @app.exception_handler(RegistryUnavailable)
    async def _unavailable(_request: Request, exc: RegistryUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(GateError)
    async def _gate_error(_request: Request, exc: GateError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    def session() -> Iterator[Session]:
        with services.database.session() as db_session:
            yield db_session

    @app.get("/healthz")
    def healthz() -> Health:
        """Liveness: the database answers and its schema is the one we expect."""
        revision = services.database.current_revision()
        return Health(status="ok", database=services.database.dialect, schema_revision=revision)

    @app.get("/api/v1/registry/stats")
    def stats(db: Annotated[Session, Depends(session)]) -> RegistryStatsPublic:
        """Counts of buildings, units, households, persons and quarantine, now."""
        counts = registry_stats(db, at=datetime.now(UTC))
        return RegistryStatsPublic(**dataclasses.asdict(counts))

    return app
