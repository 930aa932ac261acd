"""Upgrades from an empty database and from every earlier revision reach the models' schema.

The revisions come from Alembic's own script directory at collection time, so a migration
added later is covered without touching this file.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from registry.database import MIGRATIONS, Database
from registry.models import Base


def _revisions_oldest_first() -> list[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


REVISIONS = _revisions_oldest_first()
HEAD = REVISIONS[-1]


def _assert_matches_models(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_revisions_form_one_line_from_base_to_head(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    try:
        assert database.head_revision() == HEAD
        assert len(REVISIONS) == len(set(REVISIONS)) >= 13
    finally:
        database.dispose()


@pytest.mark.parametrize("start", ["base", *REVISIONS[:-1]])
def test_upgrade_to_head_from(start: str, empty_database_url: str) -> None:
    """``base`` is the empty database; every other start is an older release's schema."""
    database = Database(empty_database_url)
    try:
        if start != "base":
            database.upgrade(start)
            assert database.current_revision() == start
        database.upgrade("head")
        assert database.current_revision() == HEAD
        database.require_current_schema()
        _assert_matches_models(database)
    finally:
        database.dispose()
