"""The personal-data key: read from a file, generated on first start, never in the repo.

The key protects document numbers and phone numbers at rest (keyed hash for lookup,
encryption for the value). Lose it and those columns cannot be read back: back it up
with the database. Under systemd, ``LoadCredential=gate-data-key:/etc/gate/data.key``
puts it in ``$CREDENTIALS_DIRECTORY``, where it is found without any setting.

After ``gate key rotate`` the file holds a second line, ``lookup <base64>``: the
lookup-hash sub-key of the first key, which the rotation keeps (``registry.crypto``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from gate.domain.errors import ConfigError
from gate.runtime.settings import Settings

logger = logging.getLogger(__name__)

KEY_BYTES = 32
CREDENTIAL_NAME = "gate-data-key"
SETTING = "secrets.key_file"
# Values people paste into example configs are refused, as is a key with too few distinct
# characters or bytes (all zeros, base64 of "changeme" repeated): 32 random bytes have
# about 30 distinct values, and fewer than 16 is practically impossible.
_PLACEHOLDERS = {"changeme", "changethis", "secret", "placeholder", "example", "xxx", "test"}
_MIN_DISTINCT_BYTES = 16


@dataclass(frozen=True)
class DataKey:
    """The loaded key and where it came from (the path is safe to show, the bytes are not)."""

    material: bytes
    path: Path
    generated: bool
    lookup: bytes | None = None  # the kept lookup-hash sub-key, after a rotation

    def __repr__(self) -> str:
        return f"DataKey(path={self.path!s}, generated={self.generated})"


def key_path(settings: Settings) -> tuple[Path, bool]:
    """Where the key is read from, and whether it may be generated there if missing."""
    if settings.secrets.key_file is not None:
        return settings.secrets.key_file, False
    credentials_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials_dir and (Path(credentials_dir) / CREDENTIAL_NAME).is_file():
        return Path(credentials_dir) / CREDENTIAL_NAME, False
    return settings.data_dir / "secret.key", True


def load_data_key(settings: Settings) -> DataKey:
    """Read the key, generating it into the data folder on first start; ``ConfigError`` if bad."""
    path, may_generate = key_path(settings)
    if not path.exists():
        if not may_generate:
            raise ConfigError(f"key file {path} does not exist", key=SETTING)
        try:
            _generate(path)
        except OSError as exc:
            raise ConfigError(f"cannot create key file {path}: {exc}", key=SETTING) from None
        logger.warning(
            "generated a new personal-data key at %s (mode 0600); back it up with the database",
            path,
        )
        return DataKey(_read(path), path, generated=True)
    return read_data_key(path)


LOOKUP_PREFIX = "lookup "


def read_data_key(path: Path) -> DataKey:
    """A data key file as it is written at first start or by a rotation; ``ConfigError``."""
    text = _text(path, SETTING)
    first, _, rest = text.strip().partition("\n")
    if not rest.strip().startswith(LOOKUP_PREFIX):
        return DataKey(_material(text, path, SETTING), path, generated=False)
    lookup = _material(rest.strip()[len(LOOKUP_PREFIX) :], path, SETTING)
    return DataKey(_material(first, path, SETTING), path, generated=False, lookup=lookup)


def write_data_key(path: Path, material: bytes, *, lookup: bytes) -> None:
    """Write a rotated key (and the kept lookup sub-key) to a new file, mode 0600, synced."""
    encoded, kept = base64.b64encode(material).decode(), base64.b64encode(lookup).decode()
    text = f"{encoded}\n{LOOKUP_PREFIX}{kept}\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(text.encode("ascii"))
        handle.flush()
        os.fsync(handle.fileno())


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    encoded = base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(encoded)
        handle.flush()
        os.fsync(handle.fileno())


def generate_key_file(path: Path, *, setting: str) -> bool:
    """Write 32 random bytes (base64, mode 0600) to ``path``; False if it exists already."""
    try:
        _generate(path)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError(f"cannot create key file {path}: {exc}", key=setting) from None
    return True


def read_key_file(path: Path, *, setting: str) -> bytes:
    """The 32 bytes of a key file as the data key's is written; ``ConfigError`` if bad."""
    return _read(path, setting)


def _read(path: Path, setting: str = SETTING) -> bytes:
    return _material(_text(path, setting), path, setting)


def _text(path: Path, setting: str) -> str:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read key file {path}: {exc}", key=setting) from None


def _material(text: str, path: Path, setting: str) -> bytes:
    text = text.strip()
    if text.lower() in _PLACEHOLDERS or len(set(text)) < 8:
        raise ConfigError(
            f"key file {path} holds a placeholder; put base64 of {KEY_BYTES} random bytes there "
            "(e.g. `head -c 32 /dev/urandom | base64`)",
            key=setting,
        )
    try:
        material = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"key file {path} is not base64", key=setting) from None
    if len(material) != KEY_BYTES:
        raise ConfigError(
            f"key file {path} holds {len(material)} bytes, expected {KEY_BYTES}", key=setting
        )
    if len(set(material)) < _MIN_DISTINCT_BYTES:
        raise ConfigError(
            f"key file {path} holds a placeholder, not random bytes; put base64 of {KEY_BYTES} "
            "random bytes there (e.g. `head -c 32 /dev/urandom | base64`)",
            key=setting,
        )
    if path.stat().st_mode & 0o077:
        logger.warning("key file %s is readable by other users; chmod 600 it", path)
    return material
