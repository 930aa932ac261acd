"""``gate registry``: the compound's layout, statistics, import and export."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from gate.cli.context import cli_context
from gate.places import building_label
from registry.models import Building
from registry.service import add_building, get_or_create_compound, registry_stats

app = typer.Typer(help="The resident registry.", no_args_is_help=True)


@app.command("stats")
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Counts of buildings, units, households, persons and quarantine, now."""
    services = cli_context(ctx).services()
    try:
        with services.database.session() as session:
            counts = dataclasses.asdict(registry_stats(session, at=datetime.now(UTC)))
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        for name, value in counts.items():
            typer.echo(f"{name:>24}: {value}")


@app.command("add-building")
def add_building_command(
    ctx: typer.Context,
    building: Annotated[str, typer.Argument(help='Building number, e.g. "3" or "3号楼".')],
    units: Annotated[
        int, typer.Option("--units", min=1, max=99, help="Number of units (1..N).")
    ] = 1,
) -> None:
    """Add a building and its units to the compound (existing ones are kept)."""
    context = cli_context(ctx)
    services = context.services()
    compound_settings = context.settings.compound
    try:
        with services.database.session() as session:
            compound = get_or_create_compound(
                session, code=compound_settings.code, name=compound_settings.name
            )
            added: Building = add_building(
                session,
                compound=compound,
                label=building,
                units=[str(number) for number in range(1, units + 1)],
            )
            typer.echo(f"{building_label(added.key)}: {len(added.units)} unit(s)")
    finally:
        services.close()
