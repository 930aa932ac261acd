"""The personal-data key: where it is read from, when it is generated, what is refused."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

import pytest

from gate.domain.errors import ConfigError
from gate.runtime.keyfile import KEY_BYTES, DataKey, key_path, load_data_key
from gate.runtime.settings import Settings, load_settings
from tests.conftest import TEST_KEY

RANDOM_LOOKING_KEY = bytes((index * 73 + 11) % 256 for index in range(KEY_BYTES))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that want ``$CREDENTIALS_DIRECTORY`` or a GATE_* variable set it themselves."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    for name in list(os.environ):
        if name.startswith("GATE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder that does not exist yet, as on a first start."""
    return tmp_path / "var"


def settings_with_key_file(path: Path, data_dir: Path) -> Settings:
    return load_settings(data_dir=data_dir, secrets={"key_file": path})


def refusal(path: Path, data_dir: Path) -> ConfigError:
    """The ``ConfigError`` that loading the key from ``path`` raises."""
    with pytest.raises(ConfigError) as caught:
        load_data_key(settings_with_key_file(path, data_dir))
    return caught.value


def write_key_text(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "data.key"
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    path.chmod(0o600)
    return path


# --- reading ----------------------------------------------------------------------------


def test_configured_key_file_is_read(key_file: Path, data_dir: Path) -> None:
    key = load_data_key(settings_with_key_file(key_file, data_dir))
    assert key.material == TEST_KEY
    assert key.path == key_file
    assert key.generated is False
    assert not data_dir.exists()


def test_trailing_newline_is_ignored(tmp_path: Path, data_dir: Path) -> None:
    path = write_key_text(tmp_path, base64.b64encode(RANDOM_LOOKING_KEY) + b"\n")
    assert load_data_key(settings_with_key_file(path, data_dir)).material == RANDOM_LOOKING_KEY


def test_explicitly_configured_missing_key_file_is_refused(tmp_path: Path, data_dir: Path) -> None:
    missing = tmp_path / "etc" / "data.key"
    error = refusal(missing, data_dir)
    assert error.key == "secrets.key_file"
    assert str(missing) in str(error)
    assert not missing.exists()
    assert not data_dir.exists()


# --- first start ------------------------------------------------------------------------


def test_missing_default_key_is_generated_with_mode_0600(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=data_dir)
    with caplog.at_level(logging.WARNING, logger="gate.runtime.keyfile"):
        key = load_data_key(settings)
    path = data_dir / "secret.key"
    assert key.path == path
    assert key.generated is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_text().strip(), validate=True) == key.material
    assert len(key.material) == KEY_BYTES
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "generated a new personal-data key" in warnings[0].getMessage()
    assert str(path) in warnings[0].getMessage()
    assert base64.b64encode(key.material).decode() not in caplog.text


def test_generated_key_is_kept_on_the_next_start(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=data_dir)
    first = load_data_key(settings)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gate.runtime.keyfile"):
        second = load_data_key(settings)
    assert second.material == first.material
    assert second.generated is False
    assert caplog.records == []


def test_two_data_folders_get_different_keys(tmp_path: Path) -> None:
    one = load_data_key(load_settings(data_dir=tmp_path / "one"))
    two = load_data_key(load_settings(data_dir=tmp_path / "two"))
    assert one.material != two.material


def test_data_folder_that_cannot_hold_a_key_is_a_config_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "var"
    not_a_folder.write_text("a file where the data folder should be")
    with pytest.raises(ConfigError) as caught:
        load_data_key(load_settings(data_dir=not_a_folder))
    assert caught.value.key == "secrets.key_file"


# --- systemd credentials ----------------------------------------------------------------


def test_systemd_credential_is_used_when_present(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    credential = credentials / "gate-data-key"
    credential.write_text(base64.b64encode(RANDOM_LOOKING_KEY).decode())
    credential.chmod(0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    key = load_data_key(load_settings(data_dir=data_dir))
    assert key.material == RANDOM_LOOKING_KEY
    assert key.path == credential
    assert key.generated is False
    assert not (data_dir / "secret.key").exists()


def test_credentials_directory_without_the_key_falls_back_to_the_data_folder(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    assert key_path(load_settings(data_dir=data_dir)) == (data_dir / "secret.key", True)


def test_configured_key_file_beats_the_systemd_credential(
    tmp_path: Path, data_dir: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "gate-data-key").write_text(base64.b64encode(RANDOM_LOOKING_KEY).decode())
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    key = load_data_key(settings_with_key_file(key_file, data_dir))
    assert key.material == TEST_KEY


def test_key_path_says_where_and_whether_it_may_generate(key_file: Path, data_dir: Path) -> None:
    assert key_path(settings_with_key_file(key_file, data_dir)) == (key_file, False)
    assert key_path(load_settings(data_dir=data_dir)) == (data_dir / "secret.key", True)


# --- refused keys -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "changeme",
        "CHANGEME\n",
        "changethis",
        "placeholder",
        "xxx",
        "",
        "\n",
        base64.b64encode(bytes(KEY_BYTES)).decode(),  # head -c 32 /dev/zero | base64
        base64.b64encode(b"changeme" * 4).decode(),
        base64.b64encode(b"0123456789" * 3 + b"01").decode(),
    ],
)
def test_placeholder_keys_are_refused(tmp_path: Path, data_dir: Path, content: str) -> None:
    error = refusal(write_key_text(tmp_path, content), data_dir)
    assert error.key == "secrets.key_file"
    assert "placeholder" in str(error)


@pytest.mark.parametrize(
    "content",
    [
        "this is not base64 at all!",
        "-" + base64.b64encode(RANDOM_LOOKING_KEY).decode()[1:],  # URL-safe alphabet
        base64.b64encode(RANDOM_LOOKING_KEY).decode().rstrip("="),  # padding cut off
        base64.b64encode(RANDOM_LOOKING_KEY).decode()[:20]
        + "\n"
        + base64.b64encode(RANDOM_LOOKING_KEY).decode()[20:],
    ],
)
def test_non_base64_keys_are_refused(tmp_path: Path, data_dir: Path, content: str) -> None:
    error = refusal(write_key_text(tmp_path, content), data_dir)
    assert error.key == "secrets.key_file"
    assert "not base64" in str(error)


@pytest.mark.parametrize("length", [16, 31, 33, 64])
def test_keys_of_the_wrong_length_are_refused(tmp_path: Path, data_dir: Path, length: int) -> None:
    material = bytes((index * 73 + 11) % 256 for index in range(length))
    encoded = base64.b64encode(material).decode()
    error = refusal(write_key_text(tmp_path, encoded), data_dir)
    assert error.key == "secrets.key_file"
    assert f"holds {length} bytes, expected 32" in str(error)
    assert encoded not in str(error)


def test_non_ascii_key_file_is_refused(tmp_path: Path, data_dir: Path) -> None:
    error = refusal(write_key_text(tmp_path, "密钥密钥密钥密钥密钥"), data_dir)
    assert error.key == "secrets.key_file"


def test_folder_in_place_of_the_key_file_is_refused(tmp_path: Path, data_dir: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir()
    assert refusal(folder, data_dir).key == "secrets.key_file"


def test_key_readable_by_others_is_loaded_with_a_warning(
    tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_key_text(tmp_path, base64.b64encode(RANDOM_LOOKING_KEY))
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="gate.runtime.keyfile"):
        key = load_data_key(settings_with_key_file(path, data_dir))
    assert key.material == RANDOM_LOOKING_KEY
    assert "chmod 600" in caplog.text


def test_private_key_file_loads_without_a_warning(
    key_file: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gate.runtime.keyfile"):
        load_data_key(settings_with_key_file(key_file, data_dir))
    assert caplog.records == []


# --- never shown ------------------------------------------------------------------------


def test_repr_never_shows_the_key(key_file: Path, data_dir: Path) -> None:
    key = load_data_key(settings_with_key_file(key_file, data_dir))
    for shown in (repr(key), str(key), f"{key}", repr([key]), repr({"key": key})):
        assert str(key_file) in shown or "DataKey" in shown
        assert repr(TEST_KEY) not in shown
        assert TEST_KEY.hex() not in shown
        assert base64.b64encode(TEST_KEY).decode() not in shown
        assert "material" not in shown


def test_data_key_repr_names_the_path_and_origin() -> None:
    key = DataKey(RANDOM_LOOKING_KEY, Path("/etc/gate/data.key"), generated=True)
    assert repr(key) == "DataKey(path=/etc/gate/data.key, generated=True)"


def test_environment_may_point_at_the_key_file(
    key_file: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATE_SECRETS__KEY_FILE", str(key_file))
    monkeypatch.setenv("GATE_DATA_DIR", str(data_dir))
    assert load_data_key(load_settings()).material == TEST_KEY
