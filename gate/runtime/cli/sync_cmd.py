"""``gate sync status``: how far each relay (the hub, MQTT, webhooks) is behind the log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from api.outbound.upstream import UpstreamSink
from gate.app.outbound import DeliveryFailed
from gate.app.sync_status import UPSTREAM, relay_lags
from gate.domain.status import LOCAL_TZ
from gate.runtime.cli.context import cli_context
from gate.runtime.outbound_wiring import configured_sinks

app = typer.Typer(help="Store-and-forward and events out.", no_args_is_help=True)


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment else None


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    ask_hub: Annotated[
        bool, typer.Option("--ask-hub/--no-ask-hub", help="Also ask the hub what it holds.")
    ] = True,
) -> None:
    """Each relay's cursor against the log: passages behind, the oldest not yet sent."""
    context = cli_context(ctx)
    settings = context.settings
    services = context.services()
    now = datetime.now(UTC)
    try:
        expected = [UPSTREAM] if settings.upstream.url is not None else []
        lags = relay_lags(
            cursors=services.delivery_cursors, passages=services.passages, expected=expected
        )
    finally:
        services.close()
    threshold = timedelta(seconds=settings.upstream.lag_warning_seconds)
    relays: list[dict[str, Any]] = [
        {
            "name": lag.name,
            "cursor": lag.cursor,
            "log_head": lag.head,
            "behind": lag.behind,
            "oldest_pending": _local(lag.oldest_pending_at),
            "lag_seconds": round(lag.lag(now).total_seconds(), 1),
            "cursor_moved": _local(lag.moved_at),
            "late": lag.name == UPSTREAM and lag.lag(now) > threshold,
        }
        for lag in lags
    ]
    hub: dict[str, Any] | None = None
    if settings.upstream.url is not None:
        hub = {"url": settings.upstream.url}
        if ask_hub:
            sink = next(s for s in configured_sinks(settings) if isinstance(s, UpstreamSink))
            try:
                hub["holds_up_to"] = sink.hub_cursor()
            except DeliveryFailed as failure:
                hub["error"] = str(failure)
    if as_json:
        typer.echo(json.dumps({"relays": relays, "hub": hub}, ensure_ascii=False))
        return
    if hub is None:
        typer.echo("no hub configured (upstream.url)")
    elif "error" in hub:
        typer.echo(f"hub {hub['url']}: not reachable now ({hub['error']})")
    elif "holds_up_to" in hub:
        typer.echo(f"hub {hub['url']}: holds this compound up to seq {hub['holds_up_to']}")
    if not relays:
        typer.echo("no relay has run yet")
    for relay in relays:
        line = (
            f"{relay['name']}: sent up to seq {relay['cursor']} of {relay['log_head']}, "
            f"{relay['behind']} behind"
        )
        if relay["behind"]:
            line += f", oldest waiting since {relay['oldest_pending']} ({relay['lag_seconds']} s)"
        if relay["late"]:
            line += f"  WARNING: over {threshold.total_seconds():.0f} s"
        typer.echo(line)
