"""The driver table: config ``type`` -> (module, class), imported only when configured.

An unknown type or a driver whose library is missing fails at start-up with
``DriverNotAvailable`` naming it, never silently. Each driver class offers
``from_config(config, *, name, data_dir)``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gate.domain.errors import DriverNotAvailable

BACKENDS: dict[str, tuple[str, str]] = {
    # ID-card readers
    "ga467-serial": ("devices.idcard.reader", "Ga467SerialReader"),
    "ga467-emulated": ("devices.idcard.emulated", "EmulatedGa467Reader"),
    # barrier relays
    "modbus-relay": ("devices.relay.modbus", "ModbusRelay"),
    "modbus-emulated": ("devices.relay.modbus", "EmulatedModbusRelay"),
    "serial-relay": ("devices.relay.serial_board", "SerialRelayBoard"),
    "recording": ("devices.memory_barrier", "RecordingBarrier"),
    # cameras and QR scanners
    "opencv": ("devices.camera.opencv", "OpenCvCamera"),
    "serial-qr": ("devices.qr.serial_scanner", "SerialQrScanner"),
    "hid-qr": ("devices.qr.hid", "HidQrScanner"),
    # thermometers
    "modbus-thermometer": ("devices.thermometer.modbus", "ModbusThermometer"),
    "thermometer-emulated": ("devices.thermometer.modbus", "EmulatedModbusThermometer"),
}


def driver_class(type_name: str) -> Any:
    """The class implementing ``type_name``; ``DriverNotAvailable`` if there is none."""
    try:
        module_name, class_name = BACKENDS[type_name]
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise DriverNotAvailable(f"no driver {type_name!r} (known: {known})") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DriverNotAvailable(f"driver {type_name!r} cannot be loaded: {exc}") from None
    return getattr(module, class_name)


def open_driver(config: BaseModel, *, name: str, data_dir: Path) -> Any:
    """Instantiate the driver a device's config names."""
    type_name = str(getattr(config, "type", ""))
    return driver_class(type_name).from_config(config, name=name, data_dir=data_dir)
