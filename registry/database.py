"""The database handle: engine, sessions, migrations and the schema guard.

SQLite (the embedded default) runs in WAL mode with foreign keys on and ``synchronous=FULL``,
so a committed row survives a power cut; PostgreSQL is used where ``database_url`` says so.
Migrations are Alembic's, shipped inside the package (``registry/migrations``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gate.domain.errors import RegistryUnavailable, SchemaNotCurrent

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """One engine and its session factory; created by the composition root."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        if self.url.get_backend_name() == "sqlite" and self.url.database:
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.engine: Engine = create_engine(self.url, echo=echo, pool_pre_ping=True)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._extra_engines: list[Engine] = []

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    def describe(self) -> str:
        """The URL with any password hidden, for messages."""
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def open_session(self) -> Session:
        """A new session whose transaction the caller ends (a unit of work)."""
        return self._sessions()

    @property
    def engine_count(self) -> int:
        """Engines this database holds open (the main one and every writer engine)."""
        return 1 + len(self._extra_engines)

    def writer_engine(self, *, lock_timeout_ms: int) -> Engine:
        """An engine for short, hot writes: bounded lock waits, no ping per checkout."""
        if self.dialect == "sqlite":
            engine = create_engine(self.url)

            def pragmas(dbapi_connection: Any, record: Any) -> None:
                _sqlite_pragmas(dbapi_connection, record)
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_ms)}")
                cursor.close()

            event.listen(engine, "connect", pragmas)
        else:
            engine = create_engine(
                self.url, connect_args={"options": f"-c lock_timeout={int(lock_timeout_ms)}"}
            )
        self._extra_engines.append(engine)
        return engine

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        for engine in self._extra_engines:
            engine.dispose()

    # --- migrations -------------------------------------------------------------------

    def _alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def head_revision(self) -> str:
        """The newest migration this software ships."""
        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        assert head is not None
        return head

    def current_revision(self) -> str | None:
        """The revision the database is at, None when it was never migrated."""
        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except OperationalError as exc:
            raise RegistryUnavailable(f"cannot reach {self.describe()}: {exc.orig}") from None

    def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision``."""
        command.upgrade(self._alembic_config(), revision)

    def downgrade(self, revision: str) -> None:
        """Undo migrations down to ``revision`` (``base`` for an empty schema)."""
        command.downgrade(self._alembic_config(), revision)

    def require_current_schema(self) -> None:
        """Refuse to run on a schema that is missing, older or newer than this software."""
        current, head = self.current_revision(), self.head_revision()
        if current == head:
            return
        script = ScriptDirectory.from_config(self._alembic_config())
        if current is None:
            message = f"the database {self.describe()} is not initialised; run: gate db upgrade"
        elif _is_known(script, current):
            message = (
                f"the database schema is at {current}, this software needs {head}; "
                "run: gate db upgrade"
            )
        else:
            message = (
                f"the database schema {current} is newer than this software ({head}); "
                "install the matching release of the gate service"
            )
        raise SchemaNotCurrent(message, current=current, expected=head)


def _is_known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id
        return False


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
