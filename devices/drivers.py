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

from gate.errors import DriverNotAvailable

BACKENDS: dict[str, tuple[str, str]] = {
    "recording": ("devices.memory_barrier", "RecordingBarrier"),
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
