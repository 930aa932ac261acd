"""The daily round's store of ``gate.app.ports`` on SQLAlchemy: temperatures and needs.

Like ``registry.stores``, it validates nothing and audits nothing (the use cases in
``gate.app.daily_round`` do, once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gate.app.actor import Actor, Scope
from gate.app.office_values import NeedOnFile
from gate.app.views import HouseholdRef, PersonRef
from gate.domain.errors import NotFound, OutOfScope
from registry.models import HealthCheck, Household, HouseholdNeed, Person, Unit
from registry.stores import household_ref, person_ref


class SqlRoundStore:
    """``RoundStore``."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self._session, self._actor = session, actor

    def _household(self, ref: str) -> Household:
        household = self._session.scalar(
            select(Household)
            .where(Household.ref == ref)
            .options(selectinload(Household.unit).selectinload(Unit.building))
        )
        if household is None:
            raise NotFound("no such household")
        return household

    def household(self, ref: str, scope: Scope) -> HouseholdRef:
        """The household ``ref``, if ``scope`` covers its building."""
        found = household_ref(self._household(ref))
        if not scope.covers_home(found.building, found.unit):
            raise OutOfScope(f"household:{ref}")
        return found

    def members(self, household_ref: str) -> Sequence[PersonRef]:
        """Present persons of the household."""
        household = self._household(household_ref)
        return [
            person_ref(person)
            for person in sorted(household.persons, key=lambda p: p.id)
            if person.moved_out_at is None
        ]

    def _person_id(self, ref: str) -> int:
        person_id = self._session.scalar(select(Person.id).where(Person.ref == ref))
        if person_id is None:
            raise NotFound("no such person")
        return person_id

    def record_check(self, person: PersonRef, *, day: date, temperature: float, note: str) -> bool:
        """Insert or replace the person's temperature of ``day``."""
        person_id = self._person_id(person.ref)
        existed = (
            self._session.scalar(
                select(HealthCheck.id).where(
                    HealthCheck.person_id == person_id, HealthCheck.day == day
                )
            )
            is not None
        )
        self._upsert_check(
            {
                "person_id": person_id,
                "day": day,
                "temperature": temperature,
                "note": note,
                "recorded_by": self._actor.name,
                "recorded_at": self._actor.at,
            }
        )
        return existed

    def _upsert_check(self, values: dict[str, Any]) -> None:
        # One statement, so two heads saving the same person at once cannot collide.
        changes = {
            key: values[key] for key in ("temperature", "note", "recorded_by", "recorded_at")
        }
        if self._session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self._session.execute(
                pg_insert(HealthCheck)
                .values(**values)
                .on_conflict_do_update(index_elements=["person_id", "day"], set_=changes)
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            self._session.execute(
                sqlite_insert(HealthCheck)
                .values(**values)
                .on_conflict_do_update(index_elements=["person_id", "day"], set_=changes)
            )

    def add_need(self, household_ref: str, *, kind: str, detail: str) -> int:
        """Record an open need."""
        need = HouseholdNeed(
            household_id=self._household(household_ref).id,
            kind=kind,
            detail=detail,
            status="open",
            recorded_by=self._actor.name,
            recorded_at=self._actor.at,
        )
        self._session.add(need)
        self._session.flush()
        return need.id

    def _need(self, need_id: int) -> HouseholdNeed:
        need = self._session.get(HouseholdNeed, need_id)
        if need is None:
            raise NotFound("no such need")
        return need

    def need(self, need_id: int) -> NeedOnFile:
        """One need."""
        need = self._need(need_id)
        household = self._session.get(Household, need.household_id)
        assert household is not None
        return NeedOnFile(
            id=need.id, household_ref=household.ref, kind=need.kind, status=need.status
        )

    def resolve_need(self, need_id: int) -> None:
        """Mark the need resolved by the actor, now."""
        need = self._need(need_id)
        need.status, need.resolved_at, need.resolved_by = (
            "resolved",
            self._actor.at,
            self._actor.name,
        )
