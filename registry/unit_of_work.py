"""``gate.app.ports.UnitOfWork`` on the registry database: one session, one actor, one commit.

The audit row and the registry-revision bump are written here, in the use case's own
transaction, so a change and its audit row are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from sqlalchemy.exc import OperationalError

from gate.app.actor import Actor
from gate.domain.errors import RegistryUnavailable
from registry.api_key_store import SqlApiKeyStore
from registry.control_store import SqlControlStore
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.face_store import SqlFaceRecords
from registry.hub_store import HubPartitions, SqlHubStore
from registry.office_views import SqlOfficeViewStore
from registry.pass_store import SqlPassStore
from registry.people_store import SqlPersonRecordStore, SqlStatusStore
from registry.registry_store import SqlRegistryStore
from registry.reports import SqlReportStore
from registry.retention_store import SqlRetentionStore
from registry.round_store import SqlRoundStore
from registry.service import audit, bump_revision
from registry.staff_store import SqlStaffStore
from registry.stores import (
    SqlExemptionStore,
    SqlHouseholdStore,
    SqlPersonStore,
    SqlRuleStore,
    SqlVisitorStore,
)
from registry.trace_store import SqlTraceStore


class SqlUnitOfWork:
    """One transaction of one actor (see ``gate.app.ports``)."""

    def __init__(
        self,
        database: Database,
        cipher: PersonalDataCipher,
        actor: Actor,
        partitions: HubPartitions | None = None,
    ) -> None:
        self._database = database
        self._cipher = cipher
        self.actor = actor
        self._changed = False
        # A session connects only when first used, so building it here costs nothing.
        self.session = database.open_session()
        self.persons = SqlPersonStore(self.session, cipher, actor)
        self.households = SqlHouseholdStore(self.session)
        self.exemptions = SqlExemptionStore(self.session, actor)
        self.rules = SqlRuleStore(self.session, actor)
        self.visitors = SqlVisitorStore(self.session, cipher, actor)
        self.passes = SqlPassStore(self.session, actor)
        self.staff = SqlStaffStore(self.session, actor)
        self.reports = SqlReportStore(self.session)
        self.registry = SqlRegistryStore(self.session, database, cipher, actor)
        self.person_records = SqlPersonRecordStore(self.session, cipher, actor)
        self.statuses = SqlStatusStore(self.session, actor)
        self.daily_round = SqlRoundStore(self.session, actor)
        self.office_views = SqlOfficeViewStore(self.session, actor)
        self.api_keys = SqlApiKeyStore(self.session, actor)
        self.controls = SqlControlStore(self.session, cipher, actor)
        self.traces = SqlTraceStore(self.session)
        self.faces = SqlFaceRecords(self.session, cipher, actor)
        self.retention = SqlRetentionStore(self.session)
        self.hub = SqlHubStore(self.session, partitions or HubPartitions(database), actor.at)

    def __enter__(self) -> SqlUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def audit(self, action: str, target: str, detail: Mapping[str, Any] | None = None) -> None:
        """Add the use case's audit row."""
        audit(
            self.session,
            actor=self.actor.name,
            origin=self.actor.origin,
            action=action,
            target=target,
            at=self.actor.at,
            detail=dict(detail or {}),
        )

    def registry_changed(self) -> None:
        """Bump the registry revision at commit."""
        self._changed = True

    def commit(self) -> None:
        """Write everything in one transaction."""
        try:
            if self._changed:
                bump_revision(self.session)
            self.session.commit()
        except OperationalError as exc:
            self.session.rollback()
            raise RegistryUnavailable(f"the registry refused the write: {exc.orig}") from None
        self._changed = False


class SqlUnits:
    """The ``UnitOfWorkFactory`` the composition root hands to every front end."""

    def __init__(self, database: Database, cipher: PersonalDataCipher) -> None:
        self._database = database
        self._cipher = cipher
        self._partitions = HubPartitions(database)  # known month partitions, per process

    def __call__(self, actor: Actor) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._database, self._cipher, actor, self._partitions)
