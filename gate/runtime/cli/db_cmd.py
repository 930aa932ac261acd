"""``gate db``: migrations."""

from __future__ import annotations

import typer

from gate.runtime.bootstrap import open_database
from gate.runtime.cli.context import cli_context
from registry.database import Database

app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)


def _database(ctx: typer.Context) -> Database:
    return open_database(cli_context(ctx).settings)


@app.command("upgrade")
def upgrade(ctx: typer.Context, revision: str = "head") -> None:
    """Apply migrations (creates the database on first run)."""
    database = _database(ctx)
    try:
        database.upgrade(revision)
        typer.echo(f"database {database.describe()} at revision {database.current_revision()}")
    finally:
        database.dispose()


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Say whether the schema matches this software; exit 1 if not."""
    database = _database(ctx)
    try:
        database.require_current_schema()
        typer.echo(f"database {database.describe()} is current ({database.head_revision()})")
    finally:
        database.dispose()
