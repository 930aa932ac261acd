"""Restoring a backup ``registry.backup`` wrote: everything checked before anything is written.

The passphrase opens the manifest's MAC and the sealed keys, every member must match its
SHA-256, the engine must be the database's; a database with tables, or key files with
other content, are refused unless ``replace``, and then the files are moved aside first.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.domain.errors import BackupInvalid, RegistryNotEmpty
from registry.backup import (
    FORMAT,
    MANIFEST,
    SEALED,
    BackupLayout,
    BackupSummary,
    canonical,
    check_member_name,
    fsync_dir,
    summary_of,
)
from registry.backup_dump import clear_database, dump_member, is_empty, load_database
from registry.backup_seal import PassphraseKey
from registry.database import Database

logger = logging.getLogger(__name__)

_MAX_MANIFEST = 1 << 20


def read_summary(path: Path, passphrase: str) -> BackupSummary:
    """What the backup at ``path`` holds, its passphrase and checksums checked."""
    with _opened(path, passphrase) as (manifest, _members, _secrets):
        return summary_of(path, manifest)


@dataclass(frozen=True)
class RestoreSummary:
    """What a restore did: the backup it read and where it put aside what it replaced."""

    backup: BackupSummary
    written: tuple[Path, ...]
    moved_aside: Path | None


def restore_backup(
    *,
    source: Path,
    passphrase: str,
    database: Database,
    layout: BackupLayout,
    replace: bool,
    aside: Path,
    tools: Path | None = None,
) -> RestoreSummary:
    """Put the backup at ``source`` into ``database`` and the files of ``layout``.

    ``aside`` is the folder that receives the files a ``replace`` overwrites.
    """
    with _opened(source, passphrase) as (manifest, members, sealed):
        if manifest["engine"] != database.dialect:
            raise BackupInvalid(
                f"the backup is of a {manifest['engine']} database and this gate's is "
                f"{database.dialect}: restore it into the same engine"
            )
        targets = _targets(manifest, members, sealed, layout)
        changed = {path: data for path, data in targets.items() if _differs(path, data)}
        if not replace:
            if not is_empty(database):
                raise RegistryNotEmpty(
                    f"the database {database.describe()} holds tables; restore into a new one "
                    "or say --replace (its files are moved aside first)"
                )
            clash = [path for path in changed if path.exists()]
            if clash:
                raise RegistryNotEmpty(
                    f"{clash[0]} exists with other content; say --replace to move it aside"
                )
        if replace and not is_empty(database):
            clear_database(database)
        load_database(database, members[dump_member(database)], tools=tools)
        # Files only once the database is in: a failed load leaves the gate's keys in place.
        moved = _move_aside(changed, layout, aside) if replace else None
        for path, data in changed.items():
            _write_private(path, data)
        logger.info("backup %s restored into %s", manifest["id"], database.describe())
        return RestoreSummary(summary_of(source, manifest), tuple(changed), moved)


@contextmanager
def _opened(
    path: Path, passphrase: str
) -> Iterator[tuple[dict[str, Any], dict[str, Path], dict[str, bytes]]]:
    """The checked manifest, the members unpacked into a scratch folder, the opened secrets."""
    try:
        archive = tarfile.open(path, "r:")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as exc:
        raise BackupInvalid(f"{path} is not a gate backup: {exc}") from None
    with archive, tempfile.TemporaryDirectory(prefix=".gate-restore-") as scratch:
        manifest = _manifest(archive, path)
        kdf = manifest["kdf"]
        key = PassphraseKey(
            passphrase, base64.b64decode(kdf["salt"]), n=kdf["n"], r=kdf["r"], p=kdf["p"]
        )
        claimed = {name: value for name, value in manifest.items() if name != "mac"}
        if not key.verifies(canonical(claimed), str(manifest.get("mac", ""))):
            raise BackupInvalid(f"{path}: wrong passphrase, or the backup was changed")
        members: dict[str, Path] = {}
        for name, expected in manifest["members"].items():
            check_member_name(name.removeprefix("files/"))
            members[name] = _extract(archive, name, Path(scratch) / f"m{len(members)}", expected)
        opened = json.loads(key.open(members[SEALED].read_bytes(), bound_to=manifest["id"]))
        yield manifest, members, {name: base64.b64decode(v) for name, v in opened.items()}


def _manifest(archive: tarfile.TarFile, path: Path) -> dict[str, Any]:
    try:
        info = archive.getmember(MANIFEST)
        handle = archive.extractfile(info) if info.size <= _MAX_MANIFEST else None
        manifest = json.loads(handle.read()) if handle else None
    except (KeyError, ValueError, tarfile.TarError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupInvalid(f"{path} is not a gate backup ({FORMAT})")
    return manifest


def _extract(archive: tarfile.TarFile, name: str, target: Path, expected: dict[str, Any]) -> Path:
    try:
        info = archive.getmember(name)
        source = archive.extractfile(info) if info.isfile() else None
    except KeyError:
        source = None
    if source is None:
        raise BackupInvalid(f"the backup has no {name}: incomplete")
    digest = hashlib.sha256()
    with source, target.open("wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected["sha256"]:
        raise BackupInvalid(f"the backup's {name} does not match its checksum: damaged")
    return target


def _targets(
    manifest: dict[str, Any],
    members: dict[str, Path],
    sealed: dict[str, bytes],
    layout: BackupLayout,
) -> dict[Path, bytes]:
    targets: dict[Path, bytes] = {}
    plain = {
        name.removeprefix("files/"): members[name].read_bytes()
        for name in manifest["members"]
        if name.startswith("files/")
    }
    for name, data in [*sealed.items(), *plain.items()]:
        path = layout.path_of(name)
        if path is None:
            raise BackupInvalid(f"this gate has no place for the backup's {name}")
        targets[path] = data
    return targets


def _move_aside(changed: Mapping[Path, bytes], layout: BackupLayout, aside: Path) -> Path | None:
    existing = [path for path in changed if path.exists()]
    # Files of a key folder that the backup does not have (a newer pass key) go too: left
    # in place they would outrank the restored keys.
    for folder in layout.secret_dirs.values():
        if folder.is_dir():
            existing += [p for p in folder.iterdir() if p.is_file() and p not in changed]
    if not existing:
        return None
    aside.mkdir(parents=True, exist_ok=False, mode=0o700)
    for number, path in enumerate(existing):
        os.replace(path, aside / f"{number:02d}-{path.name}")
    logger.warning("moved %d files aside to %s before the restore", len(existing), aside)
    return aside


def _differs(path: Path, data: bytes) -> bool:
    return not path.is_file() or path.read_bytes() != data


def _write_private(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.restoring")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as exc:
        raise BackupInvalid(f"cannot write {path}: {exc}") from None
    fsync_dir(path.parent)
