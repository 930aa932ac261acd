"""``gate serve``: run the web service."""

from __future__ import annotations

from typing import Annotated

import typer

from gate.runtime.cli.context import cli_context


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
    try:
        station = build_station(services)
        uvicorn.run(
            create_app(services, station),
            host=host or settings.server.host,
            port=port or settings.server.port,
            log_level=settings.log_level.lower(),
            proxy_headers=False,  # the app reads them, from [web] trusted_proxies only
        )
    finally:
        services.close()
