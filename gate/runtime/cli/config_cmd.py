"""``gate config``: show the effective configuration."""

from __future__ import annotations

import json

import typer

from gate.runtime.cli.context import cli_context
from gate.runtime.keyfile import key_path
from gate.runtime.settings import masked_dump

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the effective configuration as JSON, secrets masked."""
    settings = cli_context(ctx).settings
    data = masked_dump(settings)
    path, _may_generate = key_path(settings)
    data["secrets"]["effective_key_file"] = str(path)
    data["secrets"]["key"] = "***" if path.exists() else "(not yet generated)"
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
