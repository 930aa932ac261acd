"""The database half of a backup: a consistent copy out, and back into an empty database.

SQLite uses its online backup API (a consistent copy while ``gate serve`` writes), then
``PRAGMA quick_check`` on the copy. PostgreSQL uses ``pg_dump --format=custom`` and
``pg_restore`` in one transaction, with no owner or grants, so a dump restores under
another role; both tools must be at least the server's major version (checked first).
The password, if any, travels in ``PGPASSWORD``, never on the command line.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import MetaData, inspect, text

from gate.domain.errors import BackupInvalid, RegistryUnavailable
from registry.database import Database
from registry.hub_models import PARTITION_SCHEMA

logger = logging.getLogger(__name__)

SQLITE_MEMBER = "database.sqlite"
POSTGRES_MEMBER = "database.pgdump"


def dump_member(database: Database) -> str:
    """The archive member that holds the database of this engine."""
    return SQLITE_MEMBER if database.dialect == "sqlite" else POSTGRES_MEMBER


def dump_database(database: Database, target: Path, *, tools: Path | None = None) -> None:
    """Write a consistent copy of ``database`` to ``target``."""
    if database.dialect == "sqlite":
        _sqlite_copy(_sqlite_path(database), target)
        _sqlite_check(target)
        return
    pg_dump = _tool("pg_dump", tools, database)
    _run(
        [str(pg_dump), "--format=custom", "--no-owner", "--no-privileges", "--file", str(target)],
        database,
    )


def is_empty(database: Database) -> bool:
    """True when the database holds no table at all (a new one), nor our partition schema."""
    found = inspect(database.engine)
    return not found.get_table_names() and PARTITION_SCHEMA not in _schemas(database)


def clear_database(database: Database) -> None:
    """Drop every table (the restore's ``--replace``); the database itself stays."""
    if PARTITION_SCHEMA in _schemas(database):  # the hub's month partitions (migration 0011)
        with database.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{PARTITION_SCHEMA}" CASCADE'))
    metadata = MetaData()
    metadata.reflect(database.engine)
    metadata.drop_all(database.engine)
    database.dispose()


def load_database(database: Database, source: Path, *, tools: Path | None = None) -> None:
    """Fill the empty ``database`` from a dump ``dump_database`` wrote."""
    if database.dialect == "sqlite":
        target = _sqlite_path(database)
        database.dispose()
        _sqlite_copy(source, target)
        return
    pg_restore = _tool("pg_restore", tools, database)
    _run(
        [
            str(pg_restore),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            str(source),
        ],
        database,
    )


def _schemas(database: Database) -> list[str]:
    return [] if database.dialect == "sqlite" else inspect(database.engine).get_schema_names()


def _sqlite_path(database: Database) -> Path:
    name = database.url.database
    if not name or name == ":memory:":
        raise BackupInvalid("an in-memory SQLite database cannot be backed up or restored")
    return Path(name)


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.exists():
        raise RegistryUnavailable(f"the SQLite database {source} does not exist")
    with sqlite3.connect(source) as reader, sqlite3.connect(target) as writer:
        reader.execute("PRAGMA busy_timeout=10000")
        reader.backup(writer)
    reader.close()
    writer.close()


def _sqlite_check(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        found = connection.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        connection.close()
    if found != "ok":
        raise BackupInvalid(f"the copy of the SQLite database fails its check: {found}")


def _tool(name: str, tools: Path | None, database: Database) -> Path:
    found = (tools / name) if tools else Path(shutil.which(name) or f"/usr/bin/{name}")
    if not found.exists():
        major = _server_major(database)
        raise BackupInvalid(
            f"{name} is not installed (Debian: apt install postgresql-client-{major})"
        )
    said = subprocess.run(  # noqa: S603 (our own tool path, no shell)
        [str(found), "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"(\d+)(?:\.\d+)?", said.stdout)
    tool_major, server_major = (int(match[1]) if match else 0), _server_major(database)
    if tool_major < server_major:
        raise BackupInvalid(
            f"{found} is version {tool_major} and the server is PostgreSQL {server_major}: "
            f"install postgresql-client-{server_major}"
        )
    return found


def _server_major(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(text("SHOW server_version_num")) or 0) // 10000


def _run(command: list[str], database: Database) -> None:
    url = database.url
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(  # noqa: S603 (our own tool path and arguments, no shell)
        [*command, "--dbname", conninfo], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        tool = Path(command[0]).name
        last = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise BackupInvalid(f"{tool} failed ({done.returncode}): {last[0]}")
