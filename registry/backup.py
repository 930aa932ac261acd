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

A restore reads and checks the whole backup (passphrase, every checksum, the engine)
before it writes anything, and refuses a database that holds tables or key files that
differ unless told ``replace``; then the files it replaces are moved aside, not deleted.
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
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gate.domain.errors import BackupInvalid, RegistryNotEmpty
from registry.backup_dump import (
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    clear_database,
    dump_database,
    dump_member,
    is_empty,
    load_database,
)
from registry.backup_seal import SALT_BYTES, SCRYPT_N, SCRYPT_P, SCRYPT_R, PassphraseKey
from registry.chain_check import chain_state, log_head
from registry.database import Database

logger = logging.getLogger(__name__)

FORMAT = "gate-backup/1"
MANIFEST = "manifest.json"
SEALED = "keys.sealed"
_MAX_MANIFEST = 1 << 20
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
        _check_name(name)
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
        manifest["mac"] = key.mac(_canonical(manifest))
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
    _fsync_dir(out.parent)
    logger.info("backup %s written (%d bytes)", backup_id, out.stat().st_size)
    return _summary(out, manifest)


def read_summary(path: Path, passphrase: str) -> BackupSummary:
    """What the backup at ``path`` holds, its passphrase and checksums checked."""
    with _opened(path, passphrase) as (manifest, _members, _secrets):
        return _summary(path, manifest)


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
        moved = _move_aside(changed, layout, aside) if replace else None
        if replace and not is_empty(database):
            clear_database(database)
        load_database(database, members[dump_member(database)], tools=tools)
        for path, data in changed.items():
            _write_private(path, data)
        logger.info("backup %s restored into %s", manifest["id"], database.describe())
        return RestoreSummary(_summary(source, manifest), tuple(changed), moved)


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
        if not key.verifies(_canonical(claimed), str(manifest.get("mac", ""))):
            raise BackupInvalid(f"{path}: wrong passphrase, or the backup was changed")
        members: dict[str, Path] = {}
        for name, expected in manifest["members"].items():
            _check_name(name.removeprefix("files/"))
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
    _fsync_dir(path.parent)


def _copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    return target


def _describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _check_name(name: str) -> None:
    if name not in (SQLITE_MEMBER, POSTGRES_MEMBER, SEALED) and not _NAME.fullmatch(name):
        raise BackupInvalid(f"the backup names a file {name!r} this gate will not write")
    if ".." in name.split("/"):
        raise BackupInvalid(f"the backup names a file {name!r} this gate will not write")


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    archive.addfile(info, io.BytesIO(data))


def _plain_entry(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


def _summary(path: Path, manifest: dict[str, Any]) -> BackupSummary:
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


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
