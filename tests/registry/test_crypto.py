"""Personal data at rest: keyed lookup hash and field-bound AES-GCM."""

from __future__ import annotations

import hashlib

import pytest

from gate.domain.errors import RegistryError
from registry.crypto import PersonalDataCipher
from tests.conftest import TEST_KEY

OTHER_KEY = bytes(range(100, 132))
NUMBER = "11010519491231002X"
PHONE = "13800138000"


# --- lookup hash ------------------------------------------------------------------------


def test_lookup_hash_is_stable_across_instances(cipher: PersonalDataCipher) -> None:
    again = PersonalDataCipher(TEST_KEY)
    assert cipher.lookup_hash("document", NUMBER) == again.lookup_hash("document", NUMBER)
    assert cipher.lookup_hash("document", NUMBER) == cipher.lookup_hash("document", NUMBER)


def test_lookup_hash_is_64_hex_characters(cipher: PersonalDataCipher) -> None:
    digest = cipher.lookup_hash("document", NUMBER)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest == digest.lower()


def test_lookup_hash_depends_on_the_key(cipher: PersonalDataCipher) -> None:
    other = PersonalDataCipher(OTHER_KEY)
    assert cipher.lookup_hash("document", NUMBER) != other.lookup_hash("document", NUMBER)


def test_lookup_hash_is_not_a_plain_hash_of_the_value(cipher: PersonalDataCipher) -> None:
    digest = cipher.lookup_hash("document", NUMBER)
    for message in (NUMBER, f"document:{NUMBER}"):
        assert digest != hashlib.sha256(message.encode()).hexdigest()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("document", NUMBER), ("phone", NUMBER)),
        (("document", NUMBER), ("document", NUMBER[:-1] + "0")),
        (("phone", PHONE), ("phone", PHONE + " ")),
    ],
)
def test_lookup_hash_differs_for_different_kind_or_value(
    cipher: PersonalDataCipher, first: tuple[str, str], second: tuple[str, str]
) -> None:
    assert cipher.lookup_hash(*first) != cipher.lookup_hash(*second)


# --- encryption -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [NUMBER, PHONE, "", "张三 ＋86 138", "x" * 10_000])
def test_encrypt_then_decrypt_gives_the_value_back(cipher: PersonalDataCipher, value: str) -> None:
    assert cipher.decrypt("phone", cipher.encrypt("phone", value)) == value


def test_another_instance_with_the_same_key_decrypts(cipher: PersonalDataCipher) -> None:
    blob = cipher.encrypt("document", NUMBER)
    assert PersonalDataCipher(TEST_KEY).decrypt("document", blob) == NUMBER


def test_ciphertext_hides_the_value_and_differs_each_time(cipher: PersonalDataCipher) -> None:
    first = cipher.encrypt("document", NUMBER)
    second = cipher.encrypt("document", NUMBER)
    assert first != second
    assert NUMBER.encode() not in first
    assert first[:1] == b"\x01"  # format version
    assert len(first) == 1 + 12 + len(NUMBER) + 16


def test_value_encrypted_as_phone_does_not_decrypt_as_document(
    cipher: PersonalDataCipher,
) -> None:
    blob = cipher.encrypt("phone", PHONE)
    with pytest.raises(RegistryError) as caught:
        cipher.decrypt("document", blob)
    assert PHONE not in str(caught.value)


def test_wrong_key_is_refused_without_the_plaintext(cipher: PersonalDataCipher) -> None:
    blob = cipher.encrypt("document", NUMBER)
    with pytest.raises(RegistryError, match="wrong data key or damaged value") as caught:
        PersonalDataCipher(OTHER_KEY).decrypt("document", blob)
    assert NUMBER not in str(caught.value)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("position", [1, 6, 12, 13, 20, -16, -1])
def test_tampered_ciphertext_is_refused(cipher: PersonalDataCipher, position: int) -> None:
    blob = bytearray(cipher.encrypt("document", NUMBER))
    blob[position] ^= 0x01
    with pytest.raises(RegistryError) as caught:
        cipher.decrypt("document", bytes(blob))
    assert NUMBER not in str(caught.value)


def test_unknown_version_is_refused(cipher: PersonalDataCipher) -> None:
    blob = b"\x02" + cipher.encrypt("document", NUMBER)[1:]
    with pytest.raises(RegistryError, match="version"):
        cipher.decrypt("document", blob)


@pytest.mark.parametrize("length", [0, 1, 5, 12, 13, 28])
def test_truncated_ciphertext_is_a_registry_error(cipher: PersonalDataCipher, length: int) -> None:
    blob = cipher.encrypt("document", NUMBER)[:length]
    with pytest.raises(RegistryError):
        cipher.decrypt("document", blob)


def test_appended_bytes_are_refused(cipher: PersonalDataCipher) -> None:
    with pytest.raises(RegistryError):
        cipher.decrypt("document", cipher.encrypt("document", NUMBER) + b"\x00")


# --- the key ----------------------------------------------------------------------------


def test_repr_hides_the_key(cipher: PersonalDataCipher) -> None:
    shown = repr(cipher) + str(cipher)
    assert TEST_KEY.hex() not in shown
    assert repr(TEST_KEY) not in shown
    assert "hidden" in shown


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_key_must_be_32_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PersonalDataCipher(bytes(length))
