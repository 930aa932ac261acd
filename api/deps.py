"""Request dependencies: the services the app was built with, and a database session."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from gate.runtime.bootstrap import Services


def get_services(request: Request) -> Services:
    """The services ``create_app`` was given."""
    services = request.app.state.services
    assert isinstance(services, Services)
    return services


def get_session(request: Request) -> Iterator[Session]:
    """A session in one transaction for this request."""
    with get_services(request).database.session() as session:
        yield session
