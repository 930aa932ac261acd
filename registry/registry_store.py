"""``RegistryStore`` on the database: counts, the schema, the spreadsheet import and export."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from gate.app.actor import Actor
from gate.app.registry_values import (
    CompoundName,
    ImportLimits,
    ImportMapping,
    ImportReport,
    RegistryStats,
    SchemaState,
)
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.exporter import export_file
from registry.importer import import_file
from registry.service import add_building, get_or_create_compound, registry_stats


class SqlRegistryStore:
    """``RegistryStore``, in the unit's session and at the actor's time."""

    def __init__(
        self, session: Session, database: Database, cipher: PersonalDataCipher, actor: Actor
    ) -> None:
        self._session, self._database = session, database
        self._cipher, self._actor = cipher, actor

    def counts(self) -> RegistryStats:
        """Counts at the actor's time."""
        return registry_stats(self._session, at=self._actor.at)

    def schema(self) -> SchemaState:
        """The database and its schema revision."""
        return SchemaState(self._database.dialect, self._database.current_revision())

    def add_building(
        self, *, compound: CompoundName, label: str, units: Sequence[str]
    ) -> tuple[str, int]:
        """Add a building and its missing units to the compound."""
        row = get_or_create_compound(self._session, code=compound.code, name=compound.name)
        building = add_building(self._session, compound=row, label=label, units=list(units))
        return building.key, len(building.units)

    def import_file(
        self,
        path: Path,
        *,
        compound: CompoundName,
        limits: ImportLimits,
        mapping: ImportMapping | None = None,
    ) -> ImportReport:
        """Check every row (parsed in a worker), then apply them all, or raise."""
        return import_file(
            self._session,
            path=path,
            cipher=self._cipher,
            compound=compound,
            limits=limits,
            now=self._actor.at,
            recorded_by=self._actor.name,
            mapping=mapping,
        )

    def export_file(self, path: Path, *, reveal: bool) -> int:
        """Write the registry to ``path``; the number of persons written."""
        return export_file(
            self._session, path=path, cipher=self._cipher, now=self._actor.at, reveal=reveal
        )
