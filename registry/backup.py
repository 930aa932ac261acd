"""Backup and restore of one gate: the database, the log's anchors, the keys under a passphrase.

    OUT (a tar file, mode 0600)
        manifest.json        format, id, when, engine, schema revision, compound, log head,
                             chain key id, the scrypt salt, every member's size and SHA-256;
                             HMAC under the passphrase (``registry.backup_seal``)
        database.sqlite      SQLite's online backup          } the personal data in it stays
     or database.pgdump      pg_dump --format=custom         } encrypted under the data key
        files/<name>         plain files: the anchor file (signed heads, nothing secret)
        keys.sealed          AES-256-GCM under the passphrase: the personal-data key, the
                             log's chain and anchor keys, the pass-signing keys

The data key is never in the database dump; it is exported on its own, sealed. Which files
exist where is the caller's (``BackupLayout``, built from the settings by the runtime).
The anchor file is copied before the database, so every anchor it holds names a row the
dump has: the restored log verifies against it.

A restore (``registry.backup_restore``) reads and checks the whole backup (passphrase,
every checksum, the engine) before it writes anything, and refuses a database that holds
tables or key files that differ unless told ``replace``; then the files it replaces are
moved aside, not deleted.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import secrets
import tarfile
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gate.domain.errors import BackupInvalid
from registry.backup_dump import (
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    dump_database,
    dump_member,
)
from registry.backup_seal import SALT_BYTES, SCRYPT_N, SCRYPT_P, SCRYPT_R, PassphraseKey
from registry.chain_check import chain_state, log_head
from registry.database import Database

logger = logging.getLogger(__name__)

FORMAT = "gate-backup/1"
MANIFEST = "manifest.json"
SEALED = "keys.sealed"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,80}(/[a-z0-9][a-z0-9._-]{0,80})?", re.IGNORECASE)


@dataclass(frozen=True)
class BackupLayout:
    """Where one gate keeps the files a backup carries, by the name they have inside it.

    ``secret_dirs`` name folders whose every file is secret (the pass keys); ``required``
    the names a backup may not be without (the data key).
    """

    secret_files: Mapping[str, Path]
    secret_dirs: Mapping[str, Path] = field(default_factory=dict)
    plain_files: Mapping[str, Path] = field(default_factory=dict)
    required: frozenset[str] = frozenset()

    def path_of(self, name: str) -> Path | None:
        """Where the member ``name`` lives on this gate (None: this layout has no place)."""
        check_member_name(name)
        if name in self.secret_files:
            return self.secret_files[name]
        if name in self.plain_files:
            return self.plain_files[name]
        folder, _, leaf = name.partition("/")
        if leaf and folder in self.secret_dirs:
            return self.secret_dirs[folder] / leaf
        return None

    def secrets_present(self) -> dict[str, Path]:
        """Every secret file that exists now, by name; ``BackupInvalid`` if a required one not."""
        found = {name: path for name, path in self.secret_files.items() if path.is_file()}
        for folder, path in self.secret_dirs.items():
            if path.is_dir():
                for item in sorted(path.iterdir()):
                    if item.is_file() and _NAME.fullmatch(item.name):
                        found[f"{folder}/{item.name}"] = item
        missing = sorted(self.required - found.keys())
        if missing:
            raise BackupInvalid(f"nothing to back up at {self.secret_files[missing[0]]}")
        return found


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds (the manifest without its checksums)."""

    path: Path
    backup_id: str
    created_at: str
    engine: str
    revision: str | None
    compound: str
    passages: int
    chain_key_id: str | None
    secrets: tuple[str, ...]
    files: tuple[str, ...]
    size: int


def write_backup(
    *,
    database: Database,
    layout: BackupLayout,
    out: Path,
    passphrase: str,
    compound: str,
    now: datetime,
    tools: Path | None = None,
    scrypt_n: int = SCRYPT_N,
) -> BackupSummary:
    """Write the backup to ``out`` (refused if it exists); the summary of what it holds."""
    if out.exists():
        raise BackupInvalid(f"{out} exists already; name a new file")
    out.parent.mkdir(parents=True, exist_ok=True)
    secret_paths = layout.secrets_present()
    salt = secrets.token_bytes(SALT_BYTES)
    key = PassphraseKey(passphrase, salt, n=scrypt_n)
    backup_id = str(uuid.uuid4())
    with tempfile.TemporaryDirectory(prefix=".gate-backup-", dir=out.parent) as scratch:
        work = Path(scratch)
        members: dict[str, Path] = {}
        for name, path in layout.plain_files.items():  # before the dump: see the docstring
            if path.is_file():
                members[f"files/{name}"] = _copy(path, work / f"file-{len(members)}")
        sealed = {
            name: base64.b64encode(p.read_bytes()).decode() for name, p in secret_paths.items()
        }
        members[SEALED] = work / SEALED
        members[SEALED].write_bytes(
            key.seal(json.dumps(sealed, sort_keys=True).encode(), bound_to=backup_id)
        )
        dump = dump_member(database)
        members[dump] = work / dump
        dump_database(database, members[dump], tools=tools)
        state = chain_state(database)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "id": backup_id,
            "created_at": now.isoformat(),
            "engine": database.dialect,
            "revision": database.current_revision(),
            "compound": compound,
            "passages": log_head(database).seq,
            "chain_key_id": state.key_id,
            "kdf": {
                "name": "scrypt",
                "salt": base64.b64encode(salt).decode(),
                "n": scrypt_n,
                "r": SCRYPT_R,
                "p": SCRYPT_P,
            },
            "secrets": sorted(secret_paths),
            "members": {name: _describe(path) for name, path in sorted(members.items())},
        }
        manifest["mac"] = key.mac(canonical(manifest))
        partial = work / "backup.tar"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w") as archive:
                manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
                _add_bytes(archive, MANIFEST, manifest_bytes)
                for name, path in sorted(members.items()):
                    archive.add(path, arcname=name, recursive=False, filter=_plain_entry)
            handle.flush()
            os.fsync(handle.fileno())
        _publish(partial, out)
    fsync_dir(out.parent)
    logger.info("backup %s written (%d bytes)", backup_id, out.stat().st_size)
    return summary_of(out, manifest)


def _copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    return target


def _describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


def canonical(value: dict[str, Any]) -> bytes:
    """The bytes the manifest's MAC is over: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def check_member_name(name: str) -> None:
    """Refuse a member name that could write outside the places a layout names."""
    if name not in (SQLITE_MEMBER, POSTGRES_MEMBER, SEALED) and not _NAME.fullmatch(name):
        raise BackupInvalid(f"the backup names a file {name!r} this gate will not write")
    if ".." in name.split("/"):
        raise BackupInvalid(f"the backup names a file {name!r} this gate will not write")


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    archive.addfile(info, io.BytesIO(data))


def _plain_entry(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


def summary_of(path: Path, manifest: dict[str, Any]) -> BackupSummary:
    """The summary of the backup at ``path`` from its manifest."""
    return BackupSummary(
        path=path,
        backup_id=manifest["id"],
        created_at=manifest["created_at"],
        engine=manifest["engine"],
        revision=manifest["revision"],
        compound=manifest["compound"],
        passages=manifest["passages"],
        chain_key_id=manifest["chain_key_id"],
        secrets=tuple(manifest["secrets"]),
        files=tuple(
            n.removeprefix("files/") for n in manifest["members"] if n.startswith("files/")
        ),
        size=path.stat().st_size,
    )


def _publish(partial: Path, out: Path) -> None:
    """Move the finished backup to ``out``, never over a file that appeared meanwhile."""
    try:
        os.link(partial, out)
    except FileExistsError:
        raise BackupInvalid(f"{out} exists already; name a new file") from None
    except OSError:  # a file system without hard links (a FAT stick): check, then rename
        if out.exists():
            raise BackupInvalid(f"{out} exists already; name a new file") from None
        os.replace(partial, out)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in the folder ``path`` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
