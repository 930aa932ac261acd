"""``gate devices``: read a device by hand, or run an emulator for a driver to talk to."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from gate.domain.cards import IdCard
from gate.domain.errors import DeviceIOError, DeviceTimeout
from gate.runtime.cli.context import cli_context

app = typer.Typer(help="Devices: read them by hand, emulate them.", no_args_is_help=True)
emulate_app = typer.Typer(help="Run a device emulator until Ctrl-C.", no_args_is_help=True)
app.add_typer(emulate_app, name="emulate")


@app.command("read-id")
def read_id(
    port: Annotated[str, typer.Option("--port", help="Serial port of the GA 467 reader.")],
    baud: Annotated[int, typer.Option("--baud", min=1, help="Baud rate.")] = 115200,
    once: Annotated[bool, typer.Option("--once", help="Exit after the first card.")] = False,
    wait: Annotated[
        float | None,
        typer.Option("--wait", min=0, help="With --once: give up after S seconds (exit 1)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per card.")] = False,
) -> None:
    """Print each card put on the reader at PORT until Ctrl-C (or the first, with --once)."""
    from devices.idcard.reader import Ga467SerialReader

    reader = Ga467SerialReader(port, name="read-id", baud=baud)
    deadline = None if wait is None else time.monotonic() + wait
    try:
        reader.connect(timeout=2.0)  # a wrong port fails here, with one line
        typer.secho(f"reading ID cards on {port} (SAM {reader.sam_id})", err=True)
        while True:
            try:
                card = reader.read_card(1.0)
            except (DeviceTimeout, DeviceIOError) as exc:
                if once:
                    raise
                typer.secho(f"warning: {exc}", err=True, fg=typer.colors.YELLOW)
                continue
            if card is not None:
                _print_card(card, as_json=as_json)
                if once:
                    return
            if once and deadline is not None and time.monotonic() >= deadline:
                typer.secho(f"no card within {wait} s", err=True, fg=typer.colors.RED)
                raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()


def _print_card(card: IdCard, *, as_json: bool) -> None:
    data = card.to_json()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    typer.echo(f"{card.card_type.value}:")
    for key, value in data.items():
        if value is not None and key not in ("card_type", "photo_wlt_b64"):
            typer.echo(f"  {key:20} {value}")
    if card.photo_wlt:
        typer.echo(f"  {'photo_wlt':20} {len(card.photo_wlt)} bytes")


@emulate_app.command("id-reader")
def emulate_id_reader(
    ctx: typer.Context,
    cards: Annotated[
        Path | None,
        typer.Option(
            "--cards", help="cards.json to present (default: <data_dir>/demo/cards.json)."
        ),
    ] = None,
    interval: Annotated[
        float, typer.Option("--interval", min=0.2, help="Seconds per card: half on, half off.")
    ] = 5.0,
) -> None:
    """Serve a GA 467 SAM on a pseudo-terminal; prints its path, runs until Ctrl-C."""
    from devices.idcard.emulator import Ga467Emulator

    path = cards or cli_context(ctx).settings.data_dir / "demo" / "cards.json"
    emulator = Ga467Emulator.from_file(path, present_for=interval / 2, away_for=interval / 2)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C stops it even when started from a shell that ignores SIGINT for what it runs
    # in the background (nohup ... &): Python then inherits "ignore" and installs nothing.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        emulator.start()
        # The banner first: whoever reads the path may interrupt at once.
        typer.secho(
            f"GA 467 emulator: {len(emulator.cards)} cards from {path}, one every {interval} s; "
            "Ctrl-C stops",
            err=True,
        )
        typer.echo(emulator.path)
        # Wait in short steps: a Ctrl-C the kernel hands to the emulator's thread only
        # reaches Python's handler when the main thread next runs, which a lock wait without
        # a timeout would never do (the command then hung on Ctrl-C now and then).
        forever = threading.Event()
        while not forever.wait(0.25):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        emulator.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
