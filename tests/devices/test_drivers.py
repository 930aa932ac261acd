"""The driver table: each driver configurable by its ``type``, typos named, nothing loaded early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel, ValidationError

from devices.drivers import BACKENDS, DEVICE_KINDS, driver_class, open_driver
from devices.lane_settings import LaneSettings
from devices.memory_barrier import RecordingBarrier, RecordingRelayConfig
from gate.domain.errors import ConfigError, DriverNotAvailable
from gate.runtime.settings import load_settings

HARDWARE_LIBRARIES = ("serial", "cv2", "evdev", "pymodbus")


def test_each_driver_is_listed_under_the_type_its_config_names() -> None:
    for type_name, backend in BACKENDS.items():
        assert get_args(backend.config.model_fields["type"].annotation) == (type_name,)
        assert backend.kind in DEVICE_KINDS


def _chosen_model(kind: str, type_name: str) -> type[BaseModel]:
    """The config model a lane's ``kind`` device of ``type_name`` is validated as."""
    try:
        lane = LaneSettings.model_validate({"id": "a", kind: {"type": type_name}})
    except ValidationError as exc:  # a required key (a port, a source) is missing
        [(chosen,)] = {tuple(error["loc"][1:2]) for error in exc.errors()}
        return BACKENDS[str(chosen)].config
    return type(getattr(lane, kind))


def test_each_driver_in_the_table_is_configurable_for_its_kind_only() -> None:
    for type_name, backend in BACKENDS.items():
        assert _chosen_model(backend.kind, type_name) is backend.config
        for other in set(DEVICE_KINDS) - {backend.kind}:
            with pytest.raises(ValidationError, match="does not match any of the expected tags"):
                LaneSettings.model_validate({"id": "a", other: {"type": type_name}})


def test_each_driver_class_loads() -> None:
    for type_name, backend in BACKENDS.items():
        assert driver_class(type_name).__name__ == backend.cls


@pytest.mark.parametrize(
    ("lane", "key", "words"),
    [
        ({"barrier": {"type": "modbus-relais"}}, "gate.lanes.0.barrier", "modbus-relay"),
        ({"camera": {"type": "serial-qr", "port": "x"}}, "gate.lanes.0.camera", "opencv"),
        (
            {"barrier": {"type": "modbus-relay", "coill": 1}},
            "gate.lanes.0.barrier.modbus-relay.coill",
            "unknown setting",
        ),
        ({"thermometr": {"type": "thermometer-emulated"}}, "gate.lanes.0.thermometr", "unknown"),
    ],
)
def test_an_unknown_type_or_key_fails_at_start_naming_it(
    lane: dict[str, object], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(gate={"lanes": [{"id": "main", **lane}]})
    assert caught.value.key == key
    assert words in str(caught.value)


def test_a_type_without_a_driver_is_driver_not_available(tmp_path: Path) -> None:
    class NoSuchConfig(RecordingRelayConfig):
        type: str = "no-such-driver"  # type: ignore[assignment]

    with pytest.raises(DriverNotAvailable, match="no-such-driver"):
        open_driver(NoSuchConfig(), name="x", data_dir=tmp_path)
    barrier = open_driver(RecordingRelayConfig(type="recording"), name="x", data_dir=tmp_path)
    assert isinstance(barrier, RecordingBarrier)


def test_reading_the_settings_imports_no_hardware_library() -> None:
    code = (
        "import sys\n"
        "from gate.runtime.settings import load_settings\n"
        "load_settings(gate={'lanes': [{'id': 'a', 'barrier': {'type': 'modbus-emulated'},"
        " 'camera': {'type': 'opencv', 'source': 0}}]})\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HARDWARE_LIBRARIES)!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
