"""Configuration: TOML file, GATE_* environment, values in code, and the errors that name a key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from gate.domain.errors import ConfigError
from gate.runtime.settings import Settings, load_settings, masked_dump


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GATE_* variable of the machine running the tests leaks in; relative paths stay here."""
    for name in list(os.environ):
        if name.startswith("GATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a TOML config file and return its path."""

    def write(text: str, name: str = "gate.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def config_error(*args, **kwargs) -> ConfigError:
    """The ``ConfigError`` that ``load_settings(*args, **kwargs)`` raises."""
    with pytest.raises(ConfigError) as caught:
        load_settings(*args, **kwargs)
    return caught.value


# --- sources and precedence -------------------------------------------------------------


def test_defaults_without_file_or_environment() -> None:
    settings = load_settings()
    assert settings.data_dir == Path("var")
    assert settings.database_url is None
    assert settings.effective_database_url == "sqlite:///var/gate.db"
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 8000
    assert settings.secrets.key_file is None
    assert settings.log_level == "INFO"


def test_values_come_from_the_toml_file(write_config) -> None:
    path = write_config(
        'data_dir = "/srv/gate"\n'
        'log_level = "DEBUG"\n'
        "[server]\n"
        'host = "192.0.2.10"\n'
        "port = 9000\n"
        "[secrets]\n"
        'key_file = "/etc/gate/data.key"\n'
        "[imports]\n"
        "max_rows = 500\n"
        "[compound]\n"
        'name = "幸福里"\n'
        'code = "xingfuli"\n'
    )
    settings = load_settings(path)
    assert settings.data_dir == Path("/srv/gate")
    assert settings.effective_database_url == "sqlite:////srv/gate/gate.db"
    assert settings.log_level == "DEBUG"
    assert (settings.server.host, settings.server.port) == ("192.0.2.10", 9000)
    assert settings.secrets.key_file == Path("/etc/gate/data.key")
    assert settings.imports.max_rows == 500
    assert settings.imports.max_file_mb == 20.0  # not in the file: the default
    assert (settings.compound.name, settings.compound.code) == ("幸福里", "xingfuli")


def test_gate_config_names_the_file_when_none_is_given(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATE_CONFIG", str(write_config("[server]\nport = 9001\n")))
    assert load_settings().server.port == 9001


def test_explicit_file_beats_gate_config(write_config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_CONFIG", str(write_config("[server]\nport = 9001\n", "env.toml")))
    explicit = write_config("[server]\nport = 9002\n", "explicit.toml")
    assert load_settings(explicit).server.port == 9002


def test_environment_beats_the_file_key_by_key(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config('log_level = "WARNING"\n[server]\nhost = "192.0.2.10"\nport = 9000\n')
    monkeypatch.setenv("GATE_SERVER__PORT", "8080")
    monkeypatch.setenv("GATE_DATA_DIR", "/data")
    settings = load_settings(path)
    assert settings.server.port == 8080
    assert settings.server.host == "192.0.2.10"  # the rest of [server] still from the file
    assert settings.data_dir == Path("/data")
    assert settings.log_level == "WARNING"


def test_values_in_code_beat_environment_and_file(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config('[server]\nhost = "192.0.2.10"\nport = 9000\n')
    monkeypatch.setenv("GATE_SERVER__PORT", "8080")
    monkeypatch.setenv("GATE_LOG_LEVEL", "ERROR")
    settings = load_settings(path, server={"port": 7000}, data_dir="/code")
    assert settings.server.port == 7000
    assert settings.server.host == "192.0.2.10"
    assert settings.log_level == "ERROR"
    assert settings.data_dir == Path("/code")


def test_unrelated_gate_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_OPERATOR", "zhang")  # read by the CLI, not a setting
    assert load_settings().server.port == 8000


def test_empty_gate_config_means_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_CONFIG", "")
    assert load_settings().server.port == 8000


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.log_level = "DEBUG"


def test_settings_without_load_settings_read_no_file(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATE_CONFIG", str(write_config("[server]\nport = 9001\n")))
    assert Settings().server.port == 8000


# --- errors name the key ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[server]\nprot = 9000\n", "server.prot"),
        ("[sever]\nport = 9000\n", "sever"),
        ("datadir = 'x'\n", "datadir"),
        ("[secrets]\nkey = 'abc'\n", "secrets.key"),
    ],
)
def test_unknown_key_in_the_file_is_named(write_config, toml: str, key: str) -> None:
    error = config_error(write_config(toml))
    assert error.key == key
    assert str(error).startswith(f"{key}: unknown setting")


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[server]\nport = "eighty"\n', "server.port"),
        ("[server]\nport = 70000\n", "server.port"),
        ("[server]\nport = 0\n", "server.port"),
        ("log_level = 5\n", "log_level"),
        ('log_level = "verbose"\n', "log_level"),
        ("[imports]\nmax_rows = -1\n", "imports.max_rows"),
        ('[compound]\ncode = "Ru Yi"\n', "compound.code"),
        ("server = 8000\n", "server"),
        ('database_url = "mysql://gate@db/gate"\n', "database_url"),
    ],
)
def test_wrong_type_or_value_in_the_file_is_named(write_config, toml: str, key: str) -> None:
    error = config_error(write_config(toml))
    assert error.key == key
    assert str(error).startswith(f"{key}: ")


def test_wrong_value_message_says_what_was_given(write_config) -> None:
    error = config_error(write_config('[server]\nport = "eighty"\n'))
    assert "'eighty'" in str(error)


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        ("GATE_SERVER__PORT", "eighty", "server.port"),
        ("GATE_SERVER__PROT", "9000", "server.prot"),
        ("GATE_LOG_LEVEL", "loud", "log_level"),
        ("GATE_SERVER", "8000", "server"),  # a section set as a plain value
        ("GATE_SERVER", "port=8000", "server"),  # neither JSON nor GATE_SERVER__PORT
        ("GATE_SERVER", '{"prot": 8000}', "server.prot"),
    ],
)
def test_bad_environment_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, key: str
) -> None:
    monkeypatch.setenv(variable, value)
    error = config_error()
    assert error.key == key
    assert "None" not in str(error)


def test_unknown_key_passed_in_code_is_named() -> None:
    assert config_error(serve={"port": 1}).key == "serve"


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    error = config_error(tmp_path / "nope.toml")
    assert error.key == "config"
    assert "nope.toml" in str(error)


def test_missing_file_named_by_gate_config_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATE_CONFIG", str(tmp_path / "gone.toml"))
    error = config_error()
    assert error.key == "config"
    assert "gone.toml" in str(error)


def test_a_folder_is_not_a_config_file(tmp_path: Path) -> None:
    assert config_error(tmp_path).key == "config"


def test_toml_syntax_error_is_a_config_error(write_config) -> None:
    error = config_error(write_config("[server\nport = 9000\n"))
    assert error.key == "config"
    assert "gate.toml" in str(error)
    assert "line 1" in str(error)


def test_config_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes('[compound]\nname = "如意小区"\n'.encode("gbk"))
    assert config_error(path).key == "config"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_config_file_is_a_config_error(write_config) -> None:
    path = write_config("[server]\nport = 9000\n")
    path.chmod(0)
    assert config_error(path).key == "config"


def test_database_password_never_appears_in_an_error(write_config) -> None:
    error = config_error(write_config('database_url = "mysql://gate:s3cr3t-pw@db/gate"\n'))
    assert error.key == "database_url"
    assert "s3cr3t-pw" not in str(error)
    assert "mysql://gate:***@db/gate" in str(error)


def test_a_secret_pasted_in_place_of_its_file_is_not_repeated(write_config) -> None:
    error = config_error(write_config('secrets = "c2VjcmV0LWtleS1ieXRlcw=="\n'))
    assert error.key == "secrets"
    assert "c2VjcmV0LWtleS1ieXRlcw" not in str(error)


# --- the masked dump --------------------------------------------------------------------


def test_masked_dump_hides_the_database_password() -> None:
    settings = load_settings(database_url="postgresql+psycopg://gate:hunter2@db:5432/gate")
    data = masked_dump(settings)
    assert data["database_url"] == "postgresql+psycopg://gate:***@db:5432/gate"
    assert data["effective_database_url"] == data["database_url"]
    assert "hunter2" not in repr(data)


def test_masked_dump_hides_every_url_credential_a_camera_or_a_broker_carries() -> None:
    settings = load_settings(
        gate={
            "lanes": [
                {
                    "id": "in",
                    "direction": "in",
                    "camera": {"type": "opencv", "source": "rtsp://admin:s3cr/et@cam:554/h264"},
                }
            ]
        },
        upstream={"url": "https://edge:p@ss@hub.example/"},
    )
    data = masked_dump(settings)
    assert data["gate"]["lanes"][0]["camera"]["source"] == "rtsp://admin:***@cam:554/h264"
    assert data["upstream"]["url"] == "https://edge:***@hub.example/"
    assert "s3cr" not in repr(data)
    assert "p@ss" not in repr(data)
    assert "et@" not in repr(data)


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://gate@db/gate", "postgresql+psycopg:///gate", "sqlite:///x.db"]
)
def test_masked_dump_keeps_urls_without_a_password(url: str) -> None:
    assert masked_dump(load_settings(database_url=url))["database_url"] == url


def test_masked_dump_shows_the_effective_sqlite_file() -> None:
    data = masked_dump(load_settings(data_dir="/srv/gate"))
    assert data["database_url"] is None
    assert data["effective_database_url"] == "sqlite:////srv/gate/gate.db"
    assert data["server"] == {"host": "127.0.0.1", "port": 8000}
