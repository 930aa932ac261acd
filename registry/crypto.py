"""Personal data at rest: a keyed hash to find a value, AES-GCM to read it back.

Two sub-keys are derived from the one data key with HKDF, so the lookup hash and the
cipher never share key material. After a key rotation (``registry.key_rotation``) the
lookup sub-key is the one derived from the first key, given as ``lookup_key``: the document
hashes in the chained passage log and the district's pseudonyms are made with it, and they
cannot change. Ciphertext layout: version byte, 12-byte nonce, then
AES-GCM output; the field name is bound in as associated data, so a value copied from
the phone column into the document column does not decrypt.
"""

from __future__ import annotations

import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gate.domain.errors import RegistryError

_VERSION = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16


class PersonalDataCipher:
    """Hash, encrypt and decrypt personal values with sub-keys of one data key."""

    def __init__(self, data_key: bytes, *, lookup_key: bytes | None = None) -> None:
        if len(data_key) != 32 or (lookup_key is not None and len(lookup_key) != 32):
            raise ValueError("the data key must be 32 bytes")
        self._hash_key = lookup_key or _derive(data_key, b"gate/lookup-hash/v1")
        self._aead = AESGCM(_derive(data_key, b"gate/aes-gcm/v1"))

    @property
    def lookup_key(self) -> bytes:
        """The lookup-hash sub-key: kept across a rotation of the data key."""
        return self._hash_key

    def __repr__(self) -> str:
        return "PersonalDataCipher(<key hidden>)"

    def lookup_hash(self, kind: str, value: str) -> str:
        """HMAC-SHA256 of ``kind:value`` as hex: equal inputs give equal hashes, nothing else."""
        message = f"{kind}:{value}".encode()
        # hmac.digest is the one-shot C path: the same bytes as hmac.new, several times faster.
        return hmac.digest(self._hash_key, message, "sha256").hex()

    def encrypt(self, field: str, value: str) -> bytes:
        """Encrypt ``value`` for the column ``field``."""
        return self.encrypt_bytes(field, value.encode())

    def decrypt(self, field: str, blob: bytes) -> str:
        """Decrypt a value written by ``encrypt`` for the same ``field``."""
        return self.decrypt_bytes(field, blob).decode()

    def encrypt_bytes(self, field: str, value: bytes) -> bytes:
        """Encrypt binary ``value`` (a face template, a photo) for the column ``field``."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, value, field.encode())

    def decrypt_bytes(self, field: str, blob: bytes) -> bytes:
        """Decrypt a value written by ``encrypt_bytes`` (or ``encrypt``) for ``field``."""
        if blob[:1] != _VERSION:
            raise RegistryError(f"unknown ciphertext version in {field}")
        if len(blob) < 1 + _NONCE_BYTES + _TAG_BYTES:
            # AESGCM would raise a bare ValueError about the nonce for a truncated value.
            raise RegistryError(f"cannot decrypt {field}: the stored value is truncated")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, field.encode())
        except InvalidTag:
            raise RegistryError(
                f"cannot decrypt {field}: wrong data key or damaged value"
            ) from None


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)
