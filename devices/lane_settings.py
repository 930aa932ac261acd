"""One lane of the entrance and the config of each of its devices (see ``devices.drivers``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from devices.drivers import (
    BarrierConfig,
    CameraConfig,
    IdReaderConfig,
    QrScannerConfig,
    ThermometerConfig,
)


class LaneSettings(BaseModel):
    """One lane of the entrance and the devices that serve it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
