"""``gate user``: staff accounts of the web app."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from gate.domain.errors import ConfigError
from gate.domain.roles import Role
from gate.runtime.cli.context import cli_context, operator, origin
from registry.accounts import create_account, revoke_account

app = typer.Typer(help="Staff accounts of the web app.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[Role, typer.Option(help="guard, building_head, office, auditor or admin.")],
    name: Annotated[str | None, typer.Option(help="Name shown on screens.")] = None,
    buildings: Annotated[
        str | None, typer.Option(help="Building keys of a building head, e.g. 1,2,3.")
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
    keys = [key.strip() for key in (buildings or "").split(",") if key.strip()]
    if role is Role.BUILDING_HEAD and not keys:
        raise ConfigError("a building head needs --buildings", key="--buildings")
    services = cli_context(ctx).services()
    try:
        with services.database.session() as session:
            create_account(
                session,
                username=username,
                display_name=name or username,
                role=role,
                password=password,
                pin=pin,
                building_keys=keys,
                now=datetime.now(UTC),
                actor=operator(),
                origin=origin(),
            )
    except ValueError as exc:
        raise ConfigError(str(exc), key="user") from None
    finally:
        services.close()
    typer.echo(f"account {username} ({role.value}) created")


@app.command("revoke")
def revoke(ctx: typer.Context, username: str) -> None:
    """Disable an account; its open sessions end at their next request."""
    services = cli_context(ctx).services()
    try:
        with services.database.session() as session:
            revoke_account(
                session, username=username, now=datetime.now(UTC), actor=operator(), origin=origin()
            )
    finally:
        services.close()
    typer.echo(f"account {username} revoked")
