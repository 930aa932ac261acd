"""``gate pass``: issue, verify, revoke QR passes and rotate the signing key."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from gate.app.forms import parse_duration
from gate.app.qr_passes import IssuePass, issue_pass, revoke_pass, rotate_pass_key
from gate.domain.errors import ActionRefused
from gate.domain.passes import PassKind
from gate.runtime.bootstrap import build_gate
from gate.runtime.cli.context import actor, cli_context

app = typer.Typer(help="QR passes: issue, verify, revoke, rotate the key.", no_args_is_help=True)

_ISSUABLE = ("resident", "visitor", "invite")


@app.command("issue")
def issue_command(
    ctx: typer.Context,
    person: Annotated[
        str,
        typer.Option(
            "--person",
            help="A person's ref or document number (the host, for an invite); for a "
            "visitor pass a visit's ref or the visitor's document number.",
        ),
    ],
    kind: Annotated[str, typer.Option("--kind", help="resident, visitor or invite.")] = "resident",
    valid_for: Annotated[
        str, typer.Option("--valid-for", help="30m, 2h, 7d (default: by kind).")
    ] = "",
    visitor_name: Annotated[
        str, typer.Option("--visitor-name", help="The invited visitor (invite only).")
    ] = "",
    note: Annotated[str, typer.Option("--note")] = "",
    printed: Annotated[
        bool, typer.Option("--printed", help="A resident pass that does not rotate (paper).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help='{"pass_id", "token", ...}')] = False,
) -> None:
    """Sign a pass and print its id and the text its QR carries now."""
    if kind not in _ISSUABLE:
        raise ActionRefused("pass_kind", kind=kind[:20])
    command = IssuePass(
        kind=PassKind(kind),
        subject=person,
        valid_for=parse_duration(valid_for, field_name="--valid-for"),
        visitor_name=visitor_name,
        note=note,
        rotating=False if printed else None,
    )
    services = cli_context(ctx).services()
    try:
        issued = issue_pass(
            command, actor=actor(), units=services.units, signer=services.pass_signer
        )
    finally:
        services.close()
    claims = issued.signed.claims
    if as_json:
        line = {
            "pass_id": claims.pass_id,
            "token": issued.text_now,
            "kind": claims.kind.value,
            "subject_ref": claims.subject_ref,
            "not_before": claims.not_before.isoformat(),
            "not_after": claims.not_after.isoformat(),
            "rotating": claims.rotating,
        }
        typer.echo(json.dumps(line, ensure_ascii=False))
        return
    typer.echo(f"pass {claims.pass_id} ({claims.kind.value}) for {issued.subject_name}")
    typer.echo(f"valid {claims.not_before.isoformat()} .. {claims.not_after.isoformat()}")
    if claims.rotating:
        typer.echo("rotates every 30 s: the text below is good for about a minute")
    typer.echo(issued.text_now)


# A pass's text is base45, whose alphabet has "-": one in 45 starts with it and would be
# read as an unknown option. Unknown options are the text here, so a scanner's output
# can be pasted as it is.
@app.command("verify", context_settings={"ignore_unknown_options": True})
def verify_command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The text a QR pass carries.")],
    as_json: Annotated[bool, typer.Option("--json", help='{"valid", "reason", ...}')] = False,
) -> None:
    """Check a pass as the gate would now, without logging or spending anything."""
    services = cli_context(ctx).services()
    try:
        checked = build_gate(services).pipeline.check_pass(text)
    finally:
        services.close()
    if as_json:
        line = {"valid": checked.valid, "reason": checked.reason, **checked.params}
        typer.echo(json.dumps(line, ensure_ascii=False))
    else:
        verdict = "valid" if checked.valid else "refused"
        details = " ".join(f"{key}={value}" for key, value in checked.params.items())
        typer.echo(f"{verdict}: {checked.reason} {details}".rstrip())
    if not checked.valid:
        raise typer.Exit(2)


@app.command("revoke")
def revoke_command(
    ctx: typer.Context,
    pass_id: Annotated[str, typer.Argument(help="The pass id (16 hex digits).")],
) -> None:
    """Revoke a pass: every gate refuses it from its next snapshot reload (seconds)."""
    services = cli_context(ctx).services()
    try:
        revoked = revoke_pass(pass_id, actor=actor(), units=services.units)
    finally:
        services.close()
    typer.echo(f"pass {revoked.claims.pass_id} ({revoked.claims.kind.value}) revoked")


@app.command("rotate-key")
def rotate_key_command(ctx: typer.Context) -> None:
    """New signing key; passes of the previous key still verify, older ones no longer."""
    services = cli_context(ctx).services()
    try:
        key_id = rotate_pass_key(actor=actor(), units=services.units, signer=services.pass_signer)
    finally:
        services.close()
    typer.echo(f"pass key {key_id} signs now; the previous key still verifies")
