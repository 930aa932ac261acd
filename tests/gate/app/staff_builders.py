"""One way for every test to give the compound its staff: the ``create_staff`` use case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from gate.app.actor import Actor
from gate.app.staff import CreateStaff, create_staff
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services


def add_staff(
    services: Services,
    username: str,
    role: Role,
    password: str,
    *,
    name: str = "",
    pin: str | None = None,
    buildings: Sequence[str] = (),
    units: Sequence[str] = (),
    at: datetime | None = None,
) -> None:
    """An account, created by "test" now (or at ``at``)."""
    create_staff(
        CreateStaff(
            username=username,
            role=role,
            password=password,
            display_name=name,
            pin=pin,
            building_keys=tuple(buildings),
            unit_keys=tuple(units),
        ),
        actor=Actor("test", "test", at or datetime.now(UTC)),
        units=services.units,
    )
