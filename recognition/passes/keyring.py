"""The pass-signing keys: Ed25519 keys in a folder, generated on first use, rotatable.

    <data folder>/pass-keys/        mode 0700
        pass-key-0001.key           mode 0600: base64 of a 32-byte Ed25519 private key
        pass-key-0002.key           the newest generation signs, the one before verifies

Only the two newest generations are loaded, so a token signed two rotations back is
refused (``unknown_key``); ``rotate_key_ring`` deletes the older files. A key file is
written under a temporary name and linked into place: a reader never sees half a key, and
two processes cannot both create one generation. Like the personal-data key, these files
are backed up with the database or passes must be issued again.

Each key also yields the step secrets of the rotating passes it signs (HKDF-SHA-256 of
the key, then HMAC-SHA-256 of the pass id), so the gate needs no table of secrets and a
rotation retires them together with the signatures.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import logging
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gate.domain.base45 import b45encode
from gate.domain.errors import ConfigError
from gate.domain.passes import PassClaims
from recognition.passes.layout import VERSION, key_id_of
from recognition.passes.verify import TrustedKeys

logger = logging.getLogger(__name__)

KEY_DIR_NAME = "pass-keys"
SEED_BYTES = 32
_FILE = re.compile(r"pass-key-(\d{4,})\.key")
_STEP_INFO = b"compound-gate pass step secrets v1"
_MIN_DISTINCT_BYTES = 16  # as for the data key: fewer is a placeholder, not random bytes


def key_dir(data_dir: Path) -> Path:
    """Where the pass keys live in a data folder."""
    return data_dir / KEY_DIR_NAME


def step_secret(master: bytes, pass_id: str) -> bytes:
    """The step secret of one pass from its key's step master (what the phone is given)."""
    return hmac.digest(master, bytes.fromhex(pass_id), "sha256")


class SigningKey:
    """One generation of the ring: signs tokens and derives their step secrets."""

    def __init__(self, generation: int, seed: bytes, path: Path | None = None) -> None:
        self.generation = generation
        self.path = path  # None for a key held only in memory (tests, benchmarks)
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_raw = self._private.public_key().public_bytes_raw()
        self.key_id = key_id_of(self.public_raw)
        self.step_master = HKDF(hashes.SHA256(), SEED_BYTES, None, _STEP_INFO).derive(seed)

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message``."""
        return self._private.sign(message)

    def step_secret(self, pass_id: str) -> bytes:
        """The step secret of a rotating pass this key signs."""
        return step_secret(self.step_master, pass_id)

    def __repr__(self) -> str:
        return f"SigningKey(generation={self.generation}, key_id={self.key_id:04x})"


class StepSecrets:
    """A ``StepSecretLookup`` from the step masters of the ring's keys (no private keys).

    Derived secrets are memoised by key id and pass id: a phone is read again and again.
    """

    def __init__(self, masters: Mapping[int, bytes], *, memo_size: int = 4096) -> None:
        self._masters = {f"{key_id:04x}": master for key_id, master in masters.items()}
        self._derive = functools.lru_cache(maxsize=memo_size)(self._secret)

    def __call__(self, claims: PassClaims) -> bytes | None:
        return self._derive(claims.key_id, claims.pass_id)

    def _secret(self, key_id: str, pass_id: str) -> bytes | None:
        master = self._masters.get(key_id)
        return None if master is None else step_secret(master, pass_id)

    def __repr__(self) -> str:
        return f"StepSecrets({', '.join(self._masters)})"


class KeyRing:
    """The current key (signs) and the previous one (still verifies), newest first."""

    def __init__(self, folder: Path, keys: tuple[SigningKey, ...]) -> None:
        if not 1 <= len(keys) <= 2:
            raise ValueError("a key ring holds the current key and at most one previous")
        self.folder = folder
        self.keys = keys

    @property
    def current(self) -> SigningKey:
        """The key that signs new passes."""
        return self.keys[0]

    def public_keys(self) -> tuple[bytes, ...]:
        """The raw public keys a verifier accepts (safe to copy to another gate)."""
        return tuple(key.public_raw for key in self.keys)

    def trusted(self, *, memo_size: int = 4096) -> TrustedKeys:
        """What ``verify_pass`` checks signatures against."""
        return TrustedKeys(self.public_keys(), memo_size=memo_size)

    def step_secrets(self, *, memo_size: int = 4096) -> StepSecrets:
        """What ``verify_pass`` looks rotating passes' secrets up in."""
        masters = {key.key_id: key.step_master for key in self.keys}
        return StepSecrets(masters, memo_size=memo_size)

    def __repr__(self) -> str:
        return f"KeyRing({self.folder!s}, {', '.join(map(repr, self.keys))})"


def open_key_ring(folder: Path) -> KeyRing:
    """Load the two newest keys, generating the first on first use; ``ConfigError`` if bad."""
    if not _generations(folder):
        _ensure_folder(folder)
        if _create(folder, 1, taken=set()):
            logger.warning(
                "generated the first pass-signing key in %s (mode 0600); back it up", folder
            )
    return _load(folder)


def rotate_key_ring(folder: Path) -> KeyRing:
    """Make a new current key, keep the previous one, delete any older; the new ring."""
    ring = open_key_ring(folder)
    generation = ring.current.generation + 1
    if not _create(folder, generation, taken={key.key_id for key in ring.keys}):
        raise ConfigError(f"pass key generation {generation} in {folder} appeared meanwhile")
    try:
        for older, path in _generations(folder):
            if older < generation - 1:
                path.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot delete an old pass key in {folder}: {exc}") from None
    rotated = _load(folder)
    logger.info(
        "rotated the pass-signing key: generation %d (key %04x) signs now",
        generation,
        rotated.current.key_id,
    )
    return rotated


def _generations(folder: Path) -> list[tuple[int, Path]]:
    """Key files in the folder, newest first."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"cannot read the pass key folder {folder}: {exc}") from None
    found = [(int(match[1]), folder / name) for name in names if (match := _FILE.fullmatch(name))]
    return sorted(found, reverse=True)


def _ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create the pass key folder {folder}: {exc}") from None
    if folder.stat().st_mode & 0o077:
        logger.warning("pass key folder %s is open to other users; chmod 700 it", folder)


def _load(folder: Path) -> KeyRing:
    keys = tuple(SigningKey(gen, _read_seed(path), path) for gen, path in _generations(folder)[:2])
    if not keys:
        raise ConfigError(f"no pass key in {folder}")
    if len({key.key_id for key in keys}) < len(keys):
        raise ConfigError(f"the two newest pass keys in {folder} share a key id (copied?)")
    return KeyRing(folder, keys)


def _usable(seed: bytes, key_id: int, taken: set[int]) -> bool:
    # A token's text starts with the version and the key id: a key id that makes it start
    # with a space is skipped, so a scanner or a lane that trims whitespace cannot break it
    # (base45 never ends with a space).
    starts_with_space = b45encode(bytes((VERSION,)) + key_id.to_bytes(2, "big"))[0] == " "
    return not starts_with_space and key_id not in taken and len(set(seed)) >= _MIN_DISTINCT_BYTES


def _create(folder: Path, generation: int, *, taken: set[int]) -> bool:
    """Write a new key as ``generation``; False if that generation exists already."""
    while True:
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes_raw()
        public_raw = private.public_key().public_bytes_raw()
        if _usable(seed, key_id_of(public_raw), taken):
            break
    path = folder / f"pass-key-{generation:04d}.key"
    temporary = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(base64.b64encode(seed) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)
        _sync_folder(folder)
    except OSError as exc:
        raise ConfigError(f"cannot write a pass key in {folder}: {exc}") from None
    return True


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read_seed(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read pass key {path}: {exc}") from None
    try:
        seed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"pass key {path} is not base64") from None
    if len(seed) != SEED_BYTES:
        raise ConfigError(f"pass key {path} holds {len(seed)} bytes, expected {SEED_BYTES}")
    if len(set(seed)) < _MIN_DISTINCT_BYTES:
        raise ConfigError(f"pass key {path} holds a placeholder, not random bytes")
    if mode & 0o077:
        logger.warning("pass key %s is readable by other users; chmod 600 it", path)
    return seed
