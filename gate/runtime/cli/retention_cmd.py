"""``gate retention run``: the retention job now (the running service runs it every 6 hours)."""

from __future__ import annotations

from typing import Annotated

import typer

from gate.app.retention import run_retention
from gate.runtime.bootstrap import retention_policy
from gate.runtime.cli.context import actor, cli_context

app = typer.Typer(help="Retention of personal data per data class.", no_args_is_help=True)


@app.command("run")
def run(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
) -> None:
    """Delete what each class's period allows (audited per class); print the counts."""
    services = cli_context(ctx).services()
    try:
        report = run_retention(
            retention_policy(services.settings),
            actor=actor(),
            units=services.units,
            checkpoints=services.anchors,
            dry_run=dry_run,
        )
    finally:
        services.close()
    verb = "would delete" if dry_run else "deleted"
    for entry in report.classes:
        detail = ", ".join(
            f"{key} {value}" for key, value in entry.detail.items() if isinstance(value, int)
        )
        typer.echo(f"{entry.name}: {verb} {entry.deleted}" + (f" ({detail})" if detail else ""))
