"""``gate id``: check a document number without touching the registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from gate.domain.documents import (
    DOCUMENT_LABELS_ZH,
    DocumentType,
    describe_region,
    detect_type,
    validate,
)
from gate.domain.errors import DocumentInvalid
from gate.domain.people import label_zh
from gate.domain.status import local_date

app = typer.Typer(help="Identity-document numbers.", no_args_is_help=True)


@app.command("check")
def check(
    number: str,
    doc_type: Annotated[
        DocumentType | None, typer.Option("--type", help="Document type; guessed if omitted.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Validate NUMBER and print what it encodes; exit 1 with the reason if invalid."""
    try:
        kind = doc_type or detect_type(number)
        # The edge reads the clock: future birth dates are refused and a 2017 foreigner
        # card's two-digit year is placed in its century.
        info = validate(kind, number, today=local_date(datetime.now(UTC)))
    except DocumentInvalid as exc:
        if as_json:
            typer.echo(json.dumps({"valid": False, "reason": exc.reason, "message": str(exc)}))
        else:
            typer.secho(f"invalid: {exc} [{exc.reason}]", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    region = describe_region(info.region_code) if info.region_code else None
    result = {
        "valid": True,
        "type": info.doc_type.value,
        "type_label": DOCUMENT_LABELS_ZH[info.doc_type],
        "birth_date": info.birth_date.isoformat() if info.birth_date else None,
        "sex": info.sex.value if info.sex else None,
        "region_code": info.region_code,
        "region": region,
        "nationality_code": info.nationality_code,
        "last4": info.last4,
    }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"valid {result['type_label']} ({info.doc_type.value}), ending {info.last4}")
    if info.birth_date:
        typer.echo(f"  birth date: {info.birth_date.isoformat()}")
    if info.sex:
        typer.echo(f"  sex:        {label_zh(info.sex)} ({info.sex.value})")
    if info.region_code:
        typer.echo(f"  region:     {info.region_code} {region or '(not in GB/T 2260 table)'}")
    if info.nationality_code:
        typer.echo(f"  nationality code: {info.nationality_code}")
