"""``gate qr decode``: read the QR codes in image files, one line per image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from recognition.qr import (
    DECODERS,
    DEFAULT_DECODER,
    ImageUnreadable,
    build_decoder,
    quiet_opencv_warnings,
    read_image,
)

app = typer.Typer(help="QR codes in pictures.", no_args_is_help=True)


@app.command("decode")
def decode(
    images: Annotated[
        list[Path], typer.Argument(help="Image files (PNG, JPEG, ...).", metavar="IMAGE")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help='One JSON line per image: {"image", "codes"}.')
    ] = False,
    decoder: Annotated[
        str, typer.Option("--decoder", help=f"One of {', '.join(DECODERS)}.")
    ] = DEFAULT_DECODER,
) -> None:
    """Print the codes in each IMAGE; an unreadable file is reported and the rest still decode."""
    qr = build_decoder(decoder)
    quiet_opencv_warnings()  # a damaged file is reported on its own line instead
    for path in images:
        try:
            texts = [code.text for code in qr.decode(read_image(path))]
        except ImageUnreadable as exc:
            if as_json:
                line = {"image": str(path), "codes": [], "error": exc.reason}
                typer.echo(json.dumps(line, ensure_ascii=False))
            else:
                typer.secho(f"{path}: error: {exc.reason}", err=True, fg=typer.colors.RED)
            continue
        if as_json:
            typer.echo(json.dumps({"image": str(path), "codes": texts}, ensure_ascii=False))
            continue
        if not texts:
            typer.echo(f"{path}: no code")
        for text in texts:
            typer.echo(f"{path}: {text}".replace("\n", "\\n"))
