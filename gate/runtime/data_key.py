"""The personal-data key against the registry: refuse the wrong one, rotate to a new one.

A start with a key that reads none of the registry's personal data would find nobody
(every document hash differs) and could not show a phone: every command and ``gate serve``
refuse it in one line (``check_data_key``). So is a key generated because the file was
missing, when the registry already holds data: the new file is removed again, so the
next start says the same.

``rotate_data_key`` (``gate key rotate``), crash-safe in three steps:

1. the new key is written beside the old one, ``<key>.new`` (0600, synced), with the
   lookup sub-key it keeps (``registry.crypto``);
2. every encrypted value is re-encrypted under it in one transaction
   (``registry.key_rotation.reencrypt``);
3. the old file is kept as ``<key>.retired-<UTC time>`` (backups taken before need it)
   and ``<key>.new`` is renamed over the key file.

A crash before 2 commits leaves the old key in force (a later rotation starts again); a
crash between 2 and 3 leaves a registry that only ``<key>.new`` reads: the start refuses
and says to run ``gate key rotate`` again, which then only does step 3.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gate.app.actor import Actor
from gate.domain.errors import ConfigError
from gate.runtime.keyfile import (
    KEY_BYTES,
    SETTING,
    DataKey,
    key_path,
    read_data_key,
    write_data_key,
)
from gate.runtime.settings import Settings
from registry.backup import fsync_dir
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.key_rotation import key_fits, reencrypt


def cipher_of(key: DataKey) -> PersonalDataCipher:
    """The cipher of a loaded key (with the lookup sub-key a rotation kept)."""
    return PersonalDataCipher(key.material, lookup_key=key.lookup)


def pending_path(path: Path) -> Path:
    """Where a rotation writes the new key before the registry is re-encrypted."""
    return path.with_name(path.name + ".new")


def check_data_key(database: Database, key: DataKey, cipher: PersonalDataCipher) -> None:
    """``ConfigError`` (one line) if ``cipher`` does not read the registry's personal data."""
    if key_fits(database, cipher) is not False:
        return
    if key.generated:
        with contextlib.suppress(OSError):
            key.path.unlink()
        raise ConfigError(
            f"key file {key.path} does not exist, but the registry holds personal data "
            "encrypted under a key: restore that key file from the backup (a new key would "
            "read none of it)",
            key=SETTING,
        )
    pending = pending_path(key.path)
    if pending.exists() and _reads(database, pending):
        raise ConfigError(
            f"a key rotation stopped after the registry was re-encrypted under {pending}: "
            "run `gate key rotate` again to finish it",
            key=SETTING,
        )
    raise ConfigError(
        f"key file {key.path} does not hold the key the registry's personal data is "
        "encrypted under: restore the right key file from the backup",
        key=SETTING,
    )


def _reads(database: Database, path: Path) -> bool:
    try:
        return key_fits(database, cipher_of(read_data_key(path))) is True
    except ConfigError:
        return False


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: the values re-encrypted per column, where the old key went."""

    key_file: Path
    retired: Path
    counts: dict[str, int] = field(default_factory=dict)
    finished_earlier_run: bool = False


def rotate_data_key(settings: Settings, database: Database, *, actor: Actor) -> Rotation:
    """Re-encrypt every personal value under a new key, then put it in the key file."""
    path, _may_generate = key_path(settings)
    if not path.exists():
        raise ConfigError(f"key file {path} does not exist: nothing to rotate", key=SETTING)
    old = cipher_of(read_data_key(path))
    pending = pending_path(path)
    fits = key_fits(database, old)
    if pending.exists():
        if fits is False and _reads(database, pending):
            return Rotation(path, _swap(path, pending), finished_earlier_run=True)
        pending.unlink()  # an earlier rotation that never committed: start again
    if fits is False:
        raise ConfigError(
            f"key file {path} does not hold the key the registry's personal data is "
            "encrypted under: restore the right key file first",
            key=SETTING,
        )
    material = secrets.token_bytes(KEY_BYTES)
    try:
        write_data_key(pending, material, lookup=old.lookup_key)
        fsync_dir(path.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write the new key to {pending}: {exc}", key=SETTING) from None
    new = PersonalDataCipher(material, lookup_key=old.lookup_key)
    counts = reencrypt(database, old, new, actor=actor)
    return Rotation(path, _swap(path, pending), counts)


def _swap(path: Path, pending: Path) -> Path:
    """Keep the old key file under a dated name, put the new one in its place."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    retired = path.with_name(f"{path.name}.retired-{stamp}")
    os.link(path, retired)
    os.replace(pending, path)
    fsync_dir(path.parent)
    return retired
