"""Configuration of a lane's devices: one pydantic model per driver, chosen by ``type``.

A typo in ``type`` or in any key fails at start-up naming it. The emulators are drivers
like any other: ``ga467-emulated`` speaks the real bytes on a pseudo-terminal,
``modbus-emulated`` runs a local Modbus server that the real Modbus driver talks to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Driver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- ID-card readers --------------------------------------------------------------------


class Ga467SerialConfig(_Driver):
    """A GA 467 reader on a serial, USB-serial or USB-CDC port."""

    type: Literal["ga467-serial"]
    port: str
    baud: int = Field(default=115200, gt=0)
    poll_interval: float = Field(default=0.3, ge=0.3, description="GA 467 wants >= 300 ms")
    timeout: float = Field(default=1.0, gt=0)


class Ga467EmulatedConfig(_Driver):
    """The real driver talking to the reader emulator on a pseudo-terminal."""

    type: Literal["ga467-emulated"]
    cards: Path | None = Field(
        default=None, description="Cards to present; default <data_dir>/demo/cards.json"
    )
    card_interval: float = Field(default=5.0, gt=0, description="Seconds between cards")
    poll_interval: float = Field(default=0.3, ge=0.3)


IdReaderConfig = Annotated[Ga467SerialConfig | Ga467EmulatedConfig, Field(discriminator="type")]


# --- barrier relays ---------------------------------------------------------------------


class ModbusRelayConfig(_Driver):
    """A relay module on Modbus TCP or RTU: pulse a coil, optionally read a closed contact."""

    type: Literal["modbus-relay"]
    transport: Literal["tcp", "rtu"] = "tcp"
    host: str = "127.0.0.1"
    port: int = Field(default=502, ge=1, le=65535)
    serial_port: str | None = None
    baud: int = Field(default=9600, gt=0)
    unit_id: int = Field(default=1, ge=1, le=247)  # 0 is broadcast: nothing would answer
    coil: int = Field(default=0, ge=0)
    pulse_ms: int = Field(default=500, ge=50, le=10_000)
    closed_input: int | None = Field(default=None, ge=0, description="Barrier-closed contact")
    timeout: float = Field(default=1.0, gt=0)


class ModbusEmulatedConfig(_Driver):
    """The Modbus relay driver against a local emulated relay module."""

    type: Literal["modbus-emulated"]
    coil: int = Field(default=0, ge=0)
    pulse_ms: int = Field(default=500, ge=50, le=10_000)


class SerialRelayConfig(_Driver):
    """The common serial relay boards speaking 4-byte ``A0 ch state sum`` commands."""

    type: Literal["serial-relay"]
    port: str
    baud: int = Field(default=9600, gt=0)
    channel: int = Field(default=1, ge=1, le=255)
    pulse_ms: int = Field(default=500, ge=50, le=10_000)


class RecordingRelayConfig(_Driver):
    """No hardware: record the commands (a demo without a relay)."""

    type: Literal["recording"]


BarrierConfig = Annotated[
    ModbusRelayConfig | ModbusEmulatedConfig | SerialRelayConfig | RecordingRelayConfig,
    Field(discriminator="type"),
]


# --- cameras, QR scanners, thermometers ---------------------------------------------------


class OpenCvCameraConfig(_Driver):
    """Anything ``cv2.VideoCapture`` opens: a USB index, an RTSP URL, a video file."""

    type: Literal["opencv"]
    source: str | int
    fps: float = Field(default=10.0, gt=0, le=60)
    loop: bool = Field(default=False, description="Restart a video file at its end (demo)")


CameraConfig = Annotated[OpenCvCameraConfig, Field(discriminator="type")]


class SerialQrConfig(_Driver):
    """A QR scanner in serial mode sending line-terminated codes."""

    type: Literal["serial-qr"]
    port: str
    baud: int = Field(default=9600, gt=0)
    terminator: Literal["cr", "lf", "crlf"] = "cr"


class HidQrConfig(_Driver):
    """A QR scanner in USB HID keyboard mode, read with evdev and grabbed."""

    type: Literal["hid-qr"]
    device: str = Field(description="/dev/input/by-id/... path")
    grab: bool = True


QrScannerConfig = Annotated[SerialQrConfig | HidQrConfig, Field(discriminator="type")]


class ModbusThermometerConfig(_Driver):
    """A thermometer exposing the last reading in a holding register (x10 or x100)."""

    type: Literal["modbus-thermometer"]
    transport: Literal["tcp", "rtu"] = "tcp"
    host: str = "127.0.0.1"
    port: int = Field(default=502, ge=1, le=65535)
    serial_port: str | None = None
    baud: int = Field(default=9600, gt=0)
    unit_id: int = Field(default=1, ge=1, le=247)  # 0 is broadcast: nothing would answer
    holding_register: int = Field(default=0, ge=0)
    scale: Literal[10, 100] = 10
    no_reading: tuple[int, ...] = Field(
        default=(), description="Raw values the device writes when nobody was measured"
    )
    timeout: float = Field(default=1.0, gt=0)


class ThermometerEmulatedConfig(_Driver):
    """The Modbus thermometer driver against a local emulated thermometer."""

    type: Literal["thermometer-emulated"]
    scale: Literal[10, 100] = 10


ThermometerConfig = Annotated[
    ModbusThermometerConfig | ThermometerEmulatedConfig, Field(discriminator="type")
]


class LaneSettings(_Driver):
    """One lane of the entrance and the devices that serve it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    direction: Literal["in", "out"] = Field(
        default="in", description="Which way the lane's reader and scanner face"
    )
    free_exit: bool = Field(
        default=False, description="Leaving never waits for a decision (emergency egress)"
    )
    id_reader: IdReaderConfig | None = None
    qr_scanner: QrScannerConfig | None = None
    camera: CameraConfig | None = None
    barrier: BarrierConfig | None = None
    thermometer: ThermometerConfig | None = None
