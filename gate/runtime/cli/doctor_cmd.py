"""``gate doctor``: check config, database, keys, devices, clock, disk and upstream at once."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from gate.app.doctor import all_well
from gate.runtime.cli.context import cli_context
from gate.runtime.doctor import run_doctor


def doctor(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="TOML config file, as `gate --config` (which it overrides)."
        ),
    ] = None,
    min_free_mb: Annotated[
        float, typer.Option("--min-free-mb", min=0, help="Less free disk than this is a finding.")
    ] = 1024,
    device_seconds: Annotated[
        float, typer.Option("--device-seconds", min=0.1, help="How long each device is watched.")
    ] = 3.0,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check everything the gate needs and say what to fix; exit 1 if anything needs fixing."""
    # The findings say everything; drivers' and libraries' own log lines would only repeat it.
    logging.disable(logging.CRITICAL)
    try:
        findings = run_doctor(
            config or cli_context(ctx).config_file,
            min_free_mb=min_free_mb,
            device_seconds=device_seconds,
        )
    finally:
        logging.disable(logging.NOTSET)
    well = all_well(findings)
    if as_json:
        typer.echo(json.dumps([f.to_json() for f in findings], ensure_ascii=False))
    else:
        width = max(len(finding.check) for finding in findings)
        for finding in findings:
            mark = "ok  " if finding.ok else "FAIL"
            typer.secho(
                f"{mark} {finding.check:<{width}}  {finding.seen}",
                fg=None if finding.ok else typer.colors.RED,
            )
            if finding.fix and not finding.ok:
                typer.echo(f"     {'':<{width}}  fix: {finding.fix}")
        problems = sum(not finding.ok for finding in findings)
        typer.echo("all well" if well else f"{problems} to fix")
    if not well:
        raise typer.Exit(1)
