"""``gate user``: staff accounts of the web app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gate.app.staff import CreateStaff, create_staff, revoke_staff
from gate.domain.roles import Role
from gate.runtime.cli.context import actor, cli_context

app = typer.Typer(help="Staff accounts of the web app.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[
        Role, typer.Option(help="guard, building_head, unit_head, office, auditor or admin.")
    ],
    name: Annotated[str | None, typer.Option(help="Name shown on screens.")] = None,
    buildings: Annotated[
        str | None, typer.Option(help="Building keys of a building head, e.g. 1,2,3.")
    ] = None,
    units: Annotated[
        str | None, typer.Option(help="Units of a unit head as building/unit, e.g. 1/1,1/2.")
    ] = None,
    password_file: Annotated[
        Path | None, typer.Option(help="Read the password from this file instead of a prompt.")
    ] = None,
    pin: Annotated[
        str | None, typer.Option(help="4-8 digit PIN to unlock an idle terminal.")
    ] = None,
) -> None:
    """Create an account (the first one: --role admin)."""
    if password_file is not None:
        password = password_file.read_text(encoding="utf-8").strip()
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    command = CreateStaff(
        username=username,
        role=role,
        password=password,
        display_name=name or "",
        pin=pin,
        building_keys=tuple((buildings or "").split(",")),
        unit_keys=tuple((units or "").split(",")),
    )
    services = cli_context(ctx).services()
    try:
        create_staff(command, actor=actor(), units=services.units)
    finally:
        services.close()
    typer.echo(f"account {username} ({role.value}) created")


@app.command("revoke")
def revoke(ctx: typer.Context, username: str) -> None:
    """Disable an account; its open sessions end at their next request."""
    services = cli_context(ctx).services()
    try:
        revoke_staff(username, actor=actor(), units=services.units)
    finally:
        services.close()
    typer.echo(f"account {username} revoked")
