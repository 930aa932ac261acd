"""Alembic environment: runs against the engine the ``Database`` handle passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from registry.models import Base

engine = context.config.attributes["engine"]
assert isinstance(engine, Engine)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
