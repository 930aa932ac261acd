"""``gate backup`` and ``gate restore``: the database, the log's anchors and the keys, sealed."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from gate.domain.errors import BackupInvalid
from gate.runtime.backup_layout import backup_layout
from gate.runtime.bootstrap import bootstrap, open_database
from gate.runtime.cli.context import cli_context
from registry.backup import BackupSummary, write_backup
from registry.backup_restore import restore_backup
from registry.backup_seal import check_passphrase
from registry.chain_check import verify_chain

PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="File whose first line is the passphrase (else it is asked for on the terminal).",
    ),
]


def backup(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")],
    passphrase_file: PassphraseFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Back up the database, the anchor file and the keys (sealed with a passphrase) to OUT."""
    passphrase = _passphrase(passphrase_file, confirm=True)
    check_passphrase(passphrase)
    services = cli_context(ctx).services()
    try:
        now = datetime.now(UTC)
        services.anchors.anchor_now(now)  # the head as it stands: the restore verifies up to it
        summary = write_backup(
            database=services.database,
            layout=backup_layout(services.settings, data_key=services.data_key.path),
            out=out,
            passphrase=passphrase,
            compound=services.settings.compound.code,
            now=now,
        )
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps(_summary_json(summary), ensure_ascii=False))
        return
    typer.echo(
        f"backup {summary.path} ({summary.size} bytes): {summary.engine} database at revision "
        f"{summary.revision}, {summary.passages} passages, {len(summary.secrets)} keys sealed, "
        f"files {', '.join(summary.files) or 'none'}"
    )
    typer.echo("keep the passphrase apart from the file: without it the keys cannot be read")


def restore(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A file `gate backup` wrote.")],
    passphrase_file: PassphraseFile = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Restore over a database that holds tables and key files that differ "
            "(the files are moved aside to <data_dir>/pre-restore-<time>).",
        ),
    ] = False,
) -> None:
    """Restore a backup into the configured database and data folder; then verify the log."""
    settings = cli_context(ctx).settings
    passphrase = _passphrase(passphrase_file, confirm=False)
    database = open_database(settings)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        result = restore_backup(
            source=source,
            passphrase=passphrase,
            database=database,
            layout=backup_layout(settings),
            replace=replace,
            aside=settings.data_dir / f"pre-restore-{stamp}",
        )
        current, head = database.current_revision(), database.head_revision()
    finally:
        database.dispose()
    made = result.backup
    typer.echo(
        f"restored backup of {made.created_at} ({made.passages} passages, revision "
        f"{made.revision}) into {database.describe()}; {len(result.written)} files written"
    )
    if result.moved_aside is not None:
        typer.echo(f"the files it replaced are in {result.moved_aside}")
    if current != head:
        typer.echo(f"the schema is at {current}, this software needs {head}: run gate db upgrade")
        return
    services = bootstrap(settings)
    try:
        found = services.anchors.log.read()
        report = verify_chain(
            services.database, chain_key=services.chain_key.material, anchors=found.anchors
        )
    finally:
        services.close()
    if not report.intact or found.problems:
        problem = report.problem or found.problems[0]
        typer.secho(f"passage log BROKEN after the restore: {problem}", err=True, fg="red")
        raise typer.Exit(1)
    anchored = f", matches anchor {report.anchor.n}" if report.anchor else ""
    typer.echo(f"passage log intact: {report.checked} rows{anchored}")


def _passphrase(path: Path | None, *, confirm: bool) -> str:
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupInvalid(f"cannot read the passphrase file {path}: {exc}") from None
        return lines[0] if lines else ""
    if not sys.stdin.isatty():
        raise BackupInvalid("no terminal to ask the passphrase on: give --passphrase-file")
    value: str = typer.prompt("backup passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def _summary_json(summary: BackupSummary) -> dict[str, object]:
    return {
        "path": str(summary.path),
        "id": summary.backup_id,
        "created_at": summary.created_at,
        "engine": summary.engine,
        "revision": summary.revision,
        "compound": summary.compound,
        "passages": summary.passages,
        "chain_key_id": summary.chain_key_id,
        "secrets": list(summary.secrets),
        "files": list(summary.files),
        "size": summary.size,
    }
