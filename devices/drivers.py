"""The driver table: config ``type`` -> (device kind, config model, module, class).

Only the config models are imported here (each device package's ``config`` module, which
imports only pydantic); a driver's module is imported when a lane configures it, so reading
the settings imports neither pyserial nor cv2, evdev or pymodbus. An unknown type or a
driver whose library is missing fails at start-up with ``DriverNotAvailable`` naming it,
never silently. Each driver class offers ``from_config(config, *, name, data_dir)``.

The config of each device kind (``IdReaderConfig``, ``QrScannerConfig``, ``CameraConfig``,
``BarrierConfig``, ``ThermometerConfig``) validates as the union, discriminated by ``type``,
of the config models of that kind's drivers in ``BACKENDS``: a driver added to the table is
configurable, and a typo in ``type`` or in any key fails at start-up naming it.
"""

from __future__ import annotations

import functools
import importlib
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema

from devices.camera.config import OpenCvCameraConfig
from devices.config import DriverConfig
from devices.idcard.config import Ga467EmulatedConfig, Ga467SerialConfig
from devices.memory_barrier import RecordingRelayConfig
from devices.qr.config import HidQrConfig, SerialQrConfig, SerialQrEmulatedConfig
from devices.relay.config import ModbusEmulatedConfig, ModbusRelayConfig, SerialRelayConfig
from devices.thermometer.config import ModbusThermometerConfig, ThermometerEmulatedConfig
from gate.domain.errors import DriverNotAvailable

DeviceKind = Literal["id_reader", "qr_scanner", "camera", "barrier", "thermometer"]
DEVICE_KINDS: tuple[DeviceKind, ...] = get_args(DeviceKind)


@dataclass(frozen=True)
class Backend:
    """One driver: the kind of device it serves, its config model, where its class lives."""

    kind: DeviceKind
    config: type[DriverConfig]
    module: str
    cls: str


BACKENDS: dict[str, Backend] = {
    # ID-card readers
    "ga467-serial": Backend(
        "id_reader", Ga467SerialConfig, "devices.idcard.reader", "Ga467SerialReader"
    ),
    "ga467-emulated": Backend(
        "id_reader", Ga467EmulatedConfig, "devices.idcard.emulated", "EmulatedGa467Reader"
    ),
    # barrier relays
    "modbus-relay": Backend("barrier", ModbusRelayConfig, "devices.relay.modbus", "ModbusRelay"),
    "modbus-emulated": Backend(
        "barrier", ModbusEmulatedConfig, "devices.relay.emulated", "EmulatedModbusRelay"
    ),
    "serial-relay": Backend(
        "barrier", SerialRelayConfig, "devices.relay.serial_board", "SerialRelayBoard"
    ),
    "recording": Backend(
        "barrier", RecordingRelayConfig, "devices.memory_barrier", "RecordingBarrier"
    ),
    # cameras and QR scanners
    "opencv": Backend("camera", OpenCvCameraConfig, "devices.camera.opencv", "OpenCvCamera"),
    "serial-qr": Backend(
        "qr_scanner", SerialQrConfig, "devices.qr.serial_scanner", "SerialQrScanner"
    ),
    "serial-qr-emulated": Backend(
        "qr_scanner", SerialQrEmulatedConfig, "devices.qr.emulated", "EmulatedSerialQrScanner"
    ),
    "hid-qr": Backend("qr_scanner", HidQrConfig, "devices.qr.hid", "HidQrScanner"),
    # thermometers
    "modbus-thermometer": Backend(
        "thermometer", ModbusThermometerConfig, "devices.thermometer.modbus", "ModbusThermometer"
    ),
    "thermometer-emulated": Backend(
        "thermometer",
        ThermometerEmulatedConfig,
        "devices.thermometer.emulated",
        "EmulatedModbusThermometer",
    ),
}


class _ConfigOfKind:
    """Validates a device's config as the discriminated union of its kind's driver configs."""

    def __init__(self, kind: DeviceKind) -> None:
        self.kind = kind

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        models = [backend.config for backend in BACKENDS.values() if backend.kind == self.kind]
        union: Any = functools.reduce(operator.or_, models)
        return handler.generate_schema(Annotated[union, Field(discriminator="type")])


IdReaderConfig = Annotated[DriverConfig, _ConfigOfKind("id_reader")]
QrScannerConfig = Annotated[DriverConfig, _ConfigOfKind("qr_scanner")]
CameraConfig = Annotated[DriverConfig, _ConfigOfKind("camera")]
BarrierConfig = Annotated[DriverConfig, _ConfigOfKind("barrier")]
ThermometerConfig = Annotated[DriverConfig, _ConfigOfKind("thermometer")]


def driver_class(type_name: str) -> Any:
    """The class implementing ``type_name``; ``DriverNotAvailable`` if there is none."""
    try:
        backend = BACKENDS[type_name]
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise DriverNotAvailable(f"no driver {type_name!r} (known: {known})") from None
    try:
        module = importlib.import_module(backend.module)
    except ImportError as exc:
        raise DriverNotAvailable(f"driver {type_name!r} cannot be loaded: {exc}") from None
    return getattr(module, backend.cls)


def open_driver(config: DriverConfig, *, name: str, data_dir: Path) -> Any:
    """Instantiate the driver a device's config names."""
    return driver_class(config.type).from_config(config, name=name, data_dir=data_dir)
