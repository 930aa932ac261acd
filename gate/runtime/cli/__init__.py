"""The ``gate`` command: one entry point, subcommands grouped by what they touch.

User errors (``GateError``) print one line on stderr and exit 1; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gate.domain.errors import GateError
from gate.runtime.cli import (
    apikey_cmd,
    backup_cmd,
    clock_cmd,
    config_cmd,
    db_cmd,
    demo_cmd,
    devices_cmd,
    doctor_cmd,
    face_cmd,
    face_enrol_cmd,  # noqa: F401 (imported for its commands on face_cmd.app)
    face_eval_cmd,  # noqa: F401 (imported for its commands on face_cmd.app)
    id_cmd,
    key_cmd,
    pass_cmd,
    passage_cmd,
    qr_cmd,
    registry_cmd,
    report_cmd,
    retention_cmd,
    rules_cmd,
    serve_cmd,
    simulate_cmd,
    sync_cmd,
    user_cmd,
)
from gate.runtime.cli.context import CliContext

app = typer.Typer(
    name="gate",
    help="Compound gate service: registry, passages, devices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(db_cmd.app, name="db")
app.add_typer(registry_cmd.app, name="registry")
app.add_typer(id_cmd.app, name="id")
app.add_typer(demo_cmd.app, name="demo")
app.add_typer(devices_cmd.app, name="devices")
app.add_typer(passage_cmd.log_app, name="log")
app.add_typer(rules_cmd.rules_app, name="rules")
app.add_typer(rules_cmd.exemption_app, name="exemption")
app.add_typer(rules_cmd.visitor_app, name="visitor")
app.add_typer(user_cmd.app, name="user")
app.add_typer(qr_cmd.app, name="qr")
app.add_typer(pass_cmd.app, name="pass")
app.add_typer(report_cmd.app, name="report")
app.add_typer(apikey_cmd.app, name="apikey")
app.add_typer(sync_cmd.app, name="sync")
app.add_typer(clock_cmd.app, name="clock")
app.add_typer(face_cmd.app, name="face")
app.add_typer(key_cmd.app, name="key")
app.add_typer(retention_cmd.app, name="retention")
app.command("passage")(passage_cmd.passage)
app.command("presence")(passage_cmd.presence)
app.command("serve")(serve_cmd.serve)
app.command("simulate")(simulate_cmd.simulate)
app.command("backup")(backup_cmd.backup)
app.command("restore")(backup_cmd.restore)
app.command("doctor")(doctor_cmd.doctor)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML config file (else $GATE_CONFIG).", exists=False),
    ] = None,
) -> None:
    ctx.obj = CliContext(config_file=config)


def main() -> None:
    """Console entry point."""
    try:
        app()
    except GateError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(1)
