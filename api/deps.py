"""Request dependencies: the services the app was built with, and who is asking."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from gate.app.actor import Actor
from gate.runtime.bootstrap import Services


def get_services(request: Request) -> Services:
    """The services ``create_app`` was given."""
    services = request.app.state.services
    assert isinstance(services, Services)
    return services


def machine(request: Request) -> Actor:
    """An unauthenticated caller of the public API (health, counts), now, from its address."""
    host = request.client.host if request.client else "unknown"
    return Actor(name="api", origin=f"api@{host}", at=datetime.now(UTC))
