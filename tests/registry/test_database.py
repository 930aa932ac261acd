"""Migrations and the schema guard on both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gate.domain.errors import SchemaNotCurrent
from registry.database import Database


def test_unmigrated_database_is_refused_with_the_command_to_run(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    with pytest.raises(SchemaNotCurrent, match="gate db upgrade") as caught:
        database.require_current_schema()
    assert caught.value.current is None
    database.dispose()


def test_upgrade_then_downgrade_round_trips(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    database.upgrade()
    database.require_current_schema()
    assert database.current_revision() == database.head_revision()
    database.downgrade("base")
    assert database.current_revision() is None
    database.dispose()


def test_newer_schema_is_refused(database: Database) -> None:
    head = database.head_revision()
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    try:
        with pytest.raises(SchemaNotCurrent, match="newer than this software"):
            database.require_current_schema()
    finally:  # the PostgreSQL database is shared by the session's tests
        with database.engine.begin() as connection:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    database.dispose()


def test_the_migration_seeds_exactly_the_default_rule_set(database: Database) -> None:
    from gate.domain.rules import DEFAULT_RULES
    from registry.stores import all_rules

    with database.session() as session:
        seeded = all_rules(session)
    assert seeded == sorted(DEFAULT_RULES, key=lambda rule: rule.rule_id)
