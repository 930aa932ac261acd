"""``gate registry``: the compound's layout, statistics, import and export."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer

from gate.app.registry_io import (
    AddBuilding,
    ExportRegistry,
    ImportRegistry,
    add_building,
    export_registry,
    import_registry,
    registry_stats,
    write_import_template,
)
from gate.app.registry_values import CompoundName, ImportLimits
from gate.domain.errors import ImportRejected
from gate.domain.places import building_label
from gate.runtime.cli.context import actor, cli_context
from registry.exporter import write_template

app = typer.Typer(help="The resident registry.", no_args_is_help=True)


@app.command("stats")
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Counts of buildings, units, households, persons and quarantine, now."""
    services = cli_context(ctx).services()
    try:
        counts = dataclasses.asdict(registry_stats(actor=actor(), units=services.units))
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
    compound = CompoundName(context.settings.compound.code, context.settings.compound.name)
    services = context.services()
    try:
        key, unit_count = add_building(
            AddBuilding(compound, building, units), actor=actor(), units=services.units
        )
    finally:
        services.close()
    typer.echo(f"{building_label(key)}: {unit_count} unit(s)")


@app.command("template")
def template(
    out: Annotated[Path, typer.Argument(help="Where to write the empty .xlsx template.")],
) -> None:
    """Write an empty import template with the headings, hints and pick lists."""
    write_import_template(out, write=write_template)  # no database needed
    typer.echo(f"template written to {out}")


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX in the template's layout.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report.")] = False,
) -> None:
    """Import persons, all or nothing: any bad row and nothing is written (exit 1)."""
    context = cli_context(ctx)
    settings = context.settings
    command = ImportRegistry(
        path=file,
        compound=CompoundName(settings.compound.code, settings.compound.name),
        limits=ImportLimits.of(
            max_file_mb=settings.imports.max_file_mb, max_rows=settings.imports.max_rows
        ),
    )
    services = context.services()
    try:
        report = import_registry(command, actor=actor(), units=services.units)
    except ImportRejected as rejected:
        _print_rejection(file, rejected, as_json=as_json)
        raise typer.Exit(1) from None
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps({"accepted": True, **dataclasses.asdict(report)}, ensure_ascii=False))
        return
    typer.echo(
        f"{file.name}: {report.rows} rows accepted — {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged"
    )
    if report.ignored_columns:
        typer.echo(f"ignored columns: {', '.join(report.ignored_columns)}")


def _print_rejection(file: Path, rejected: ImportRejected, *, as_json: bool) -> None:
    if as_json:
        payload = {
            "accepted": False,
            "file": file.name,
            "problems": [
                {
                    "row": problem.row,
                    "column": problem.column,
                    "reason": problem.reason,
                    "message": problem.message,
                }
                for problem in rejected.problems
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    typer.secho(
        f"{file.name}: refused, nothing was written ({len(rejected.problems)} problem(s))",
        err=True,
        fg=typer.colors.RED,
    )
    for problem in rejected.problems:
        where = f"row {problem.row}" if problem.row else "file"
        column = f", {problem.column}" if problem.column else ""
        typer.echo(f"  {where}{column}: {problem.message} [{problem.reason}]", err=True)


@app.command("export")
def export_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Target .xlsx or .csv file.")],
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Write full document numbers and phones (audited).")
    ] = False,
) -> None:
    """Export the registry in the import layout; numbers masked unless --reveal."""
    services = cli_context(ctx).services()
    try:
        count = export_registry(
            ExportRegistry(out, reveal=reveal), actor=actor(), units=services.units
        )
    finally:
        services.close()
    typer.echo(
        f"{count} persons written to {out}" + (" (numbers revealed, audited)" if reveal else "")
    )
