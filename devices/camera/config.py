"""The cameras' config models (``devices.drivers`` names their drivers)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from devices.config import DriverConfig


class OpenCvCameraConfig(DriverConfig):
    """Anything ``cv2.VideoCapture`` opens: a USB index, an RTSP URL, a video file."""

    type: Literal["opencv"]
    source: str | int
    fps: float = Field(default=10.0, gt=0, le=60)
    loop: bool = Field(default=False, description="Restart a video file at its end (demo)")
