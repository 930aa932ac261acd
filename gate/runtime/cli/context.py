"""State shared by the subcommands of one ``gate`` invocation."""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import typer

from gate.app.actor import Actor
from gate.runtime.bootstrap import Services, bootstrap
from gate.runtime.settings import Settings, load_settings


@dataclass
class CliContext:
    """Loads settings and services lazily, so ``gate id check`` needs no database."""

    config_file: Path | None
    _settings: Settings | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        """The effective settings (``ConfigError`` if they are bad)."""
        if self._settings is None:
            self._settings = load_settings(self.config_file)
        return self._settings

    def services(self, *, require_schema: bool = True) -> Services:
        """Build the services for a command that touches the registry."""
        return bootstrap(self.settings, require_schema=require_schema)


def cli_context(ctx: typer.Context) -> CliContext:
    """The ``CliContext`` of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, CliContext)
    return obj


def operator() -> str:
    """Who runs this command, for audit records: ``$GATE_OPERATOR`` or the login name."""
    return os.environ.get("GATE_OPERATOR") or getpass.getuser()


def origin() -> str:
    """Where a CLI action comes from, for audit records."""
    return f"cli@{socket.gethostname()}"


def actor() -> Actor:
    """The operator of this command, now, seeing every building."""
    return Actor(name=operator(), origin=origin(), at=datetime.now(UTC))
