"""The key ring on disk: generated on first use with mode 0600, rotation, bad key files."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

import pytest

from gate.domain.errors import ConfigError
from recognition.passes import (
    PassKind,
    PassRefusal,
    PassRefused,
    PassValid,
    key_dir,
    open_key_ring,
    rotate_key_ring,
    verify_pass,
)
from tests.recognition.passes.helpers import NOW, issue


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the ring lives; not created yet."""
    return key_dir(tmp_path / "data")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def key_files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_the_first_key_is_generated_on_first_use(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ring = open_key_ring(folder)
    assert key_files(folder) == ["pass-key-0001.key"]
    assert mode(folder) == 0o700
    assert mode(folder / "pass-key-0001.key") == 0o600
    assert ring.current.generation == 1
    assert len(ring.keys) == 1
    assert "generated the first pass-signing key" in caplog.text


def test_the_key_file_holds_the_key_in_base64(folder: Path) -> None:
    ring = open_key_ring(folder)
    seed = base64.b64decode((folder / "pass-key-0001.key").read_text())
    assert len(seed) == 32
    assert ring.current.path == folder / "pass-key-0001.key"


def test_opening_again_loads_the_same_key(folder: Path) -> None:
    first = open_key_ring(folder)
    again = open_key_ring(folder)
    assert again.current.public_raw == first.current.public_raw
    assert key_files(folder) == ["pass-key-0001.key"]


def test_rotation_keeps_the_previous_key(folder: Path) -> None:
    old = open_key_ring(folder)
    issued = issue(PassKind.RESIDENT, ring=old)
    rotated = rotate_key_ring(folder)
    assert [key.generation for key in rotated.keys] == [2, 1]
    assert rotated.keys[1].public_raw == old.current.public_raw
    assert rotated.current.key_id != old.current.key_id
    assert key_files(folder) == ["pass-key-0001.key", "pass-key-0002.key"]
    assert mode(folder / "pass-key-0002.key") == 0o600
    result = verify_pass(
        issued.text_at(NOW),
        keys=rotated.trusted(),
        now=NOW,
        step_secrets=rotated.step_secrets(),
    )
    assert isinstance(result, PassValid)  # the signature and the rotating code both hold


def test_a_key_two_rotations_back_is_unknown(folder: Path) -> None:
    old = open_key_ring(folder)
    issued = issue(PassKind.VISITOR, ring=old)
    once = rotate_key_ring(folder)
    newer = issue(PassKind.VISITOR, ring=once)
    twice = rotate_key_ring(folder)
    assert key_files(folder) == ["pass-key-0002.key", "pass-key-0003.key"]  # the oldest deleted
    result = verify_pass(issued.text_at(NOW), keys=twice.trusted(), now=NOW)
    assert isinstance(result, PassRefused)
    assert result.reason is PassRefusal.UNKNOWN_KEY
    assert verify_pass(newer.text_at(NOW), keys=twice.trusted(), now=NOW).valid


def test_rotating_an_empty_folder_makes_two_keys(folder: Path) -> None:
    ring = rotate_key_ring(folder)
    assert [key.generation for key in ring.keys] == [2, 1]


def test_only_the_two_newest_generations_are_loaded(folder: Path) -> None:
    rotate_key_ring(folder)
    ring = open_key_ring(folder)
    # an older file left behind (copied back, or a crash before the pruning)
    (folder / "pass-key-0000.key").write_text((folder / "pass-key-0001.key").read_text())
    os.chmod(folder / "pass-key-0000.key", 0o600)
    loaded = open_key_ring(folder)
    assert [key.generation for key in loaded.keys] == [2, 1]
    assert loaded.public_keys() == ring.public_keys()


def test_no_temporary_file_is_left(folder: Path) -> None:
    rotate_key_ring(folder)
    rotate_key_ring(folder)
    assert all(name.startswith("pass-key-") for name in key_files(folder))


def test_other_files_in_the_folder_are_ignored(folder: Path) -> None:
    open_key_ring(folder)
    (folder / "README").write_text("pass keys\n")
    (folder / "pass-key-9.key").write_text("not four digits\n")
    assert open_key_ring(folder).current.generation == 1


def test_a_key_file_open_to_others_is_warned_about(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    open_key_ring(folder)
    os.chmod(folder / "pass-key-0001.key", 0o644)
    caplog.set_level(logging.WARNING)
    open_key_ring(folder)
    assert "readable by other users" in caplog.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not base64 !!!\n", "not base64"),
        (base64.b64encode(os.urandom(16)).decode() + "\n", "16 bytes"),
        (base64.b64encode(bytes(32)).decode() + "\n", "placeholder"),
        ("", "0 bytes"),
        ("\xff", "cannot read"),
    ],
)
def test_a_bad_key_file_is_a_config_error(folder: Path, content: str, message: str) -> None:
    folder.mkdir(parents=True)
    (folder / "pass-key-0001.key").write_text(content, encoding="latin-1")
    with pytest.raises(ConfigError, match=message):
        open_key_ring(folder)


def test_two_copies_of_one_key_are_a_config_error(folder: Path) -> None:
    open_key_ring(folder)
    (folder / "pass-key-0002.key").write_text((folder / "pass-key-0001.key").read_text())
    with pytest.raises(ConfigError, match="share a key id"):
        open_key_ring(folder)


def test_a_folder_that_cannot_be_created_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the data folder should be\n")
    with pytest.raises(ConfigError, match="pass key folder"):
        open_key_ring(key_dir(tmp_path / "data"))


def test_reprs_show_no_key_material(folder: Path) -> None:
    ring = open_key_ring(folder)
    seed = (folder / "pass-key-0001.key").read_text().strip()
    shown = repr(ring) + repr(ring.current) + repr(ring.trusted()) + repr(ring.step_secrets())
    assert seed not in shown
    assert ring.current.step_master.hex() not in shown
    assert f"{ring.current.key_id:04x}" in shown


def test_step_secrets_differ_by_key(folder: Path) -> None:
    old = open_key_ring(folder)
    issued = issue(PassKind.RESIDENT, ring=old)
    new = rotate_key_ring(folder)
    assert new.current.step_secret(issued.claims.pass_id) != issued.secret
    assert new.step_secrets()(issued.claims) == issued.secret  # found by the claims' key id
