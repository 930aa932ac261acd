"""The composition root: the one place that picks real adapters and wires them together."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gate.keyfile import DataKey, load_data_key
from gate.settings import Settings
from registry.crypto import PersonalDataCipher
from registry.database import Database


@dataclass(frozen=True)
class Services:
    """Everything a command or the web app needs, built from one ``Settings``."""

    settings: Settings
    database: Database
    data_key: DataKey
    cipher: PersonalDataCipher

    def close(self) -> None:
        """Release connections."""
        self.database.dispose()


def bootstrap(settings: Settings, *, require_schema: bool = True) -> Services:
    """Build the services; refuse an unmigrated or foreign schema unless told not to."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic narrates every schema check at INFO; only its warnings matter here.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.root.level))
    database = Database(settings.effective_database_url)
    try:
        if require_schema:
            database.require_current_schema()
        data_key = load_data_key(settings)
    except Exception:
        database.dispose()
        raise
    return Services(
        settings=settings,
        database=database,
        data_key=data_key,
        cipher=PersonalDataCipher(data_key.material),
    )
