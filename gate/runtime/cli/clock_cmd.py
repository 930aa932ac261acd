"""``gate clock check``: this machine's clock against ``[clock] ntp_server`` or the hub."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from gate.app.clock_watch import ClockUnavailable
from gate.domain.errors import ConfigError
from gate.runtime.cli.context import cli_context
from gate.runtime.clock_sources import SntpSource, configured_time_source

app = typer.Typer(help="This machine's clock against a reference.", no_args_is_help=True)


@app.command("check")
def check(
    ctx: typer.Context,
    server: Annotated[
        str | None, typer.Option("--server", help="Ask this NTP server instead ([clock]).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Compare once; exit 2 when off by more than ``[clock] alarm_seconds``, 1 if no answer."""
    settings = cli_context(ctx).settings
    clock = settings.clock
    source = (
        SntpSource(server, timeout=clock.timeout_seconds)
        if server
        else configured_time_source(settings)
    )
    if source is None:
        raise ConfigError("no reference: set [clock] ntp_server or [upstream] url", key="clock")
    try:
        reading = source.read()
    except ClockUnavailable as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    beyond = abs(reading.offset_seconds) > clock.alarm_seconds
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "source": reading.source,
                    "offset_seconds": round(reading.offset_seconds, 6),
                    "round_trip_seconds": round(reading.round_trip_seconds, 6),
                    "at_utc": reading.at.isoformat(),
                    "alarm_seconds": clock.alarm_seconds,
                    "beyond": beyond,
                }
            )
        )
    else:
        way = "slow" if reading.offset_seconds > 0 else "fast"
        line = (
            f"{reading.source}: this clock is {abs(reading.offset_seconds):.3f} s {way} "
            f"(round trip {reading.round_trip_seconds * 1000:.0f} ms)"
        )
        line += (
            f"  ALARM: over {clock.alarm_seconds:g} s"
            if beyond
            else f", within {clock.alarm_seconds:g} s"
        )
        typer.echo(line)
    if beyond:
        raise typer.Exit(2)
