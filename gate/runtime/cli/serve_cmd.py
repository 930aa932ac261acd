"""``gate serve``: run the web service."""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

import typer

from gate.runtime.cli.context import cli_context
from gate.runtime.logging_setup import configure_logging
from gate.runtime.sd_notify import notify


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address (default from config).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from config).")] = None,
) -> None:
    """Start the gate service (refuses an unmigrated database)."""
    import uvicorn  # the web stack loads only for this command

    from api.app import create_app
    from gate.runtime.bootstrap import build_station

    context = cli_context(ctx)
    services = context.services()
    settings = context.settings
    configure_logging(settings, to_file=True)  # the service alone writes [logging] file
    try:
        station = build_station(services)
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(services, station),
                host=host or settings.server.host,
                port=port or settings.server.port,
                log_level=settings.log_level.lower(),
                log_config=None,  # uvicorn's lines go through ours: format, file, the mask
                proxy_headers=False,  # the app reads them, from [web] trusted_proxies only
            )
        )
        threading.Thread(
            target=_ready_when_listening, args=(server,), name="sd-notify", daemon=True
        ).start()
        server.run()
        notify("STOPPING=1")
    finally:
        services.close()


def _ready_when_listening(server: Any) -> None:
    """Tell systemd the service is up once uvicorn accepts connections (``Type=notify``)."""
    while not server.started and not server.should_exit:
        time.sleep(0.05)
    if server.started:
        notify("READY=1")
