"""What the office use-case tests share: actors, and a count of everything they might write.

The compound is ``tests.api.test_office_support.populate``'s: buildings 1 to 3; 王小明 and
李梅 in 1-1-101, 张三丰 (home quarantine) in 1-1-202, 赵四 (home quarantine) in 3-1-301.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from gate.app.actor import Actor, Scope
from gate.runtime.bootstrap import Services
from registry.models import (
    AuditEvent,
    Exemption,
    HealthCheck,
    HouseholdNeed,
    Person,
    RegistryRevision,
    StatusRecord,
)

COUNTED = (Person, StatusRecord, HealthCheck, HouseholdNeed, Exemption, AuditEvent)


def head(at: datetime | None = None) -> Actor:
    """The building head of buildings 1 and 2, now (or at ``at``)."""
    return Actor("head", "test", at or datetime.now(UTC), Scope(frozenset({"1", "2"})))


def office(at: datetime | None = None) -> Actor:
    """The property office: every building."""
    return Actor("office", "test", at or datetime.now(UTC))


def written(services: Services) -> dict[str, int]:
    """Rows of everything a person or round use case writes, and the registry revision."""
    with services.database.session() as session:
        counts = {
            model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in COUNTED
        }
        counts["revision"] = int(session.scalar(select(RegistryRevision.revision)) or 0)
    return counts


def changes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """What grew between two ``written`` counts (and by how much)."""
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}
