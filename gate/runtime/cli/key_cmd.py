"""``gate key``: the personal-data key."""

from __future__ import annotations

import typer

from gate.runtime.bootstrap import open_database
from gate.runtime.cli.context import actor, cli_context
from gate.runtime.data_key import rotate_data_key

app = typer.Typer(help="The personal-data key.", no_args_is_help=True)


@app.command("rotate")
def rotate(ctx: typer.Context) -> None:
    """Re-encrypt every personal value under a new key (stop `gate serve` first)."""
    settings = cli_context(ctx).settings
    database = open_database(settings)
    try:
        database.require_current_schema()
        rotation = rotate_data_key(settings, database, actor=actor())
    finally:
        database.dispose()
    if rotation.finished_earlier_run:
        typer.echo("the registry was re-encrypted by the interrupted rotation; key file replaced")
    else:
        total = sum(rotation.counts.values())
        columns = ", ".join(f"{name} {count}" for name, count in rotation.counts.items() if count)
        typer.echo(f"re-encrypted {total} values under a new key ({columns or 'none held'})")
    typer.echo(f"new key in {rotation.key_file}")
    typer.echo(
        f"old key kept as {rotation.retired}: backups taken before now need it; "
        "delete it once they are gone"
    )
