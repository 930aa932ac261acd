"""The migrations build the models' schema, and the hot reads of the log use their indexes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect

from registry.database import Database
from registry.log_replay import presence_query
from registry.models import Base
from registry.trace_store import SqlTraceStore

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def test_models_and_migrations_agree(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_partial_indexes_keep_their_conditions(database: Database) -> None:
    # Autogenerate does not compare an index's WHERE: this does, on each engine.
    indexes = {index["name"]: index for index in inspect(database.engine).get_indexes("passages")}
    where = f"{database.dialect}_where"
    presence = indexes["ix_passages_presence"]
    assert presence["column_names"] == ["person_ref", "seq"]
    condition = str(presence.get("dialect_options", {}).get(where, "")).lower()
    assert "opens_barrier" in condition
    assert "person_ref is not null" in condition
    document = indexes["ix_passages_document_at"]
    assert document["column_names"] == ["document_hash", "at"]
    condition = str(document.get("dialect_options", {}).get(where, "")).lower()
    assert "document_hash is not null" in condition


def plans_of(database: Database, action: Callable[[], object]) -> list[str]:
    """The query plan of every SELECT ``action`` runs, as the engine explains it."""
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    prefix = "EXPLAIN QUERY PLAN " if database.dialect == "sqlite" else "EXPLAIN "
    plans = []
    with database.engine.connect() as connection:
        if database.dialect == "postgresql":
            # An empty table is read whole whatever the indexes: ask whether one serves.
            connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            plans.append("\n".join(str(row[-1]) for row in rows))
    return plans


def test_presence_is_read_through_its_index(database: Database) -> None:
    def presence() -> object:
        with database.session() as session:
            return session.execute(presence_query()).all()

    (plan,) = plans_of(database, presence)
    assert "ix_passages_presence" in plan


def test_tracing_a_document_is_read_through_its_index(database: Database) -> None:
    def trace() -> object:
        with database.session() as session:
            return SqlTraceStore(session).of_person(
                person_ref=None,
                document_hash="d" * 64,
                since=NOW - timedelta(days=31),
                until=NOW,
                limit=100,
            )

    (plan,) = plans_of(database, trace)
    assert "ix_passages_document_at" in plan
