"""``gate apikey``: API keys of the machines that call ``/api/v1`` (the district platform)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from gate.app.api_key_ports import ApiKeyOnFile
from gate.app.api_keys import (
    CreateApiKey,
    IssuedApiKey,
    create_api_key,
    list_api_keys,
    revoke_api_key,
    rotate_api_key,
)
from gate.domain.api_scopes import ApiScope
from gate.runtime.cli.context import actor, cli_context

app = typer.Typer(help="API keys for machines: create, list, rotate, revoke.", no_args_is_help=True)

_SCOPES = ", ".join(scope.value for scope in ApiScope)


def _shown_once(issued: IssuedApiKey) -> None:
    key = issued.key
    scopes = " ".join(scope.value for scope in key.scopes)
    typer.echo(f"api key {key.name} ({key.prefix}) with scopes: {scopes}")
    if key.compounds:
        typer.echo(f"bound to compounds: {' '.join(key.compounds)}")
    typer.echo("the key is shown only now; the gate keeps only its hash. Send it as")
    typer.echo("'Authorization: Bearer KEY'. The key:")
    typer.echo(issued.text)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Who uses it, e.g. district-platform.")],
    scope: Annotated[list[str], typer.Option("--scope", help=f"Repeat for each scope: {_SCOPES}.")],
    compound: Annotated[
        list[str] | None,
        typer.Option(
            "--compound",
            help="Hub mode: a compound the key pushes for and reads; repeat for each. "
            "None: a key of this gate's own.",
        ),
    ] = None,
) -> None:
    """Make a key and print it once (the last word of the last line)."""
    services = cli_context(ctx).services()
    try:
        command = CreateApiKey(name=name, scopes=tuple(scope), compounds=tuple(compound or ()))
        issued = create_api_key(command, actor=actor(), units=services.units)
    finally:
        services.close()
    _shown_once(issued)


def _line(key: ApiKeyOnFile) -> dict[str, object]:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "scopes": [scope.value for scope in key.scopes],
        "compounds": list(key.compounds),
        "created_at": key.created_at.isoformat(),
        "created_by": key.created_by,
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
) -> None:
    """Every key, revoked ones too: name, prefix, scopes, created, last used, revoked."""
    services = cli_context(ctx).services()
    try:
        keys = list_api_keys(actor=actor(), units=services.units)
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps([_line(key) for key in keys], ensure_ascii=False))
        return
    if not keys:
        typer.echo("no API keys (gate apikey create --name NAME --scope SCOPE)")
        return
    for key in keys:
        line = _line(key)
        used = line["last_used_at"] or "never used"
        state = f"revoked {line['revoked_at']}" if key.revoked else "live"
        scopes = ",".join(scope.value for scope in key.scopes)
        if key.compounds:
            scopes += f"  compounds {','.join(key.compounds)}"
        typer.echo(
            f"{key.name}  {key.prefix}  {scopes}  created {line['created_at']}  "
            f"last used {used}  {state}"
        )


@app.command("rotate")
def rotate(ctx: typer.Context, name: str) -> None:
    """Replace the key ``name`` by a new one (same scopes); the old one stops at once."""
    services = cli_context(ctx).services()
    try:
        issued = rotate_api_key(name, actor=actor(), units=services.units)
    finally:
        services.close()
    _shown_once(issued)


@app.command("revoke")
def revoke(ctx: typer.Context, name: str) -> None:
    """Revoke the key ``name``: its next request is refused (401)."""
    services = cli_context(ctx).services()
    try:
        key = revoke_api_key(name, actor=actor(), units=services.units)
    finally:
        services.close()
    typer.echo(f"api key {key.name} ({key.prefix}) revoked")
