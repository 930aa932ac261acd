"""A backup's passphrase: scrypt stretches it, HKDF splits it, AES-GCM and HMAC use the halves.

    key   = scrypt(passphrase, salt, n=2**17, r=8, p=1)    32 bytes, about 128 MiB and 0.3 s
    seal  = HKDF(key, "gate/backup/seal/v1")               AES-256-GCM of the secret files
    mac   = HKDF(key, "gate/backup/manifest/v1")           HMAC-SHA-256 of the manifest

The manifest names every member's SHA-256, so the MAC under the passphrase covers the
whole backup: a wrong passphrase and an edited member are both refused before anything
is written. Sealed layout: 12-byte nonce, then AES-GCM output; the backup's id is bound
in as associated data, so the keys of one backup do not open in another's place.
"""

from __future__ import annotations

import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from gate.domain.errors import BackupInvalid

SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
MIN_PASSPHRASE = 12
_NONCE_BYTES = 12


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to stand against guessing (``BackupInvalid``)."""
    if len(passphrase.strip()) < MIN_PASSPHRASE:
        raise BackupInvalid(
            f"the backup passphrase must have at least {MIN_PASSPHRASE} characters "
            "(several words are easier to keep than symbols)"
        )


class PassphraseKey:
    """The two keys one backup's passphrase and salt give (the passphrase is not kept)."""

    def __init__(
        self,
        passphrase: str,
        salt: bytes,
        *,
        n: int = SCRYPT_N,
        r: int = SCRYPT_R,
        p: int = SCRYPT_P,
    ) -> None:
        if not 2**14 <= n <= 2**20 or not 1 <= r <= 16 or not 1 <= p <= 4:
            # A manifest's parameters are read before it is authenticated: bound the work.
            raise BackupInvalid(f"unsupported key derivation parameters n={n} r={r} p={p}")
        stretched = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())
        self._seal = AESGCM(_derive(stretched, b"gate/backup/seal/v1"))
        self._mac = _derive(stretched, b"gate/backup/manifest/v1")

    def __repr__(self) -> str:
        return "PassphraseKey(<hidden>)"

    def seal(self, plaintext: bytes, *, bound_to: str) -> bytes:
        """``plaintext`` encrypted and authenticated, bound to the backup id ``bound_to``."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._seal.encrypt(nonce, plaintext, bound_to.encode())

    def open(self, sealed: bytes, *, bound_to: str) -> bytes:
        """What ``seal`` sealed; ``BackupInvalid`` for another passphrase or a changed byte."""
        nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._seal.decrypt(nonce, body, bound_to.encode())
        except (InvalidTag, ValueError):
            raise BackupInvalid("the backup's keys do not open: damaged") from None

    def mac(self, message: bytes) -> str:
        """HMAC-SHA-256 of ``message`` as hex."""
        return hmac.digest(self._mac, message, "sha256").hex()

    def verifies(self, message: bytes, mac: str) -> bool:
        """True if ``mac`` is this key's MAC of ``message``."""
        return hmac.compare_digest(self.mac(message), mac)


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)
