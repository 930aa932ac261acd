"""The ``gate.domain.device_ports.Camera`` contract, run against every camera driver that can run.

Always on a video file; on a real camera when ``GATE_TEST_HARDWARE`` names one: as a JSON
device config (an object or a list of them, as the other contract tests read it), e.g.
``'{"type": "opencv", "source": "rtsp://user:pass@10.0.0.5/stream1", "fps": 10}'``, or as
``camera=<index|path|url>`` (entries separated by ``;``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from devices.camera.config import OpenCvCameraConfig
from devices.camera.opencv import OpenCvCamera
from devices.drivers import open_driver
from gate.domain.device_ports import Camera, DeviceState
from tests.devices.test_camera import wait_for, write_numbered_video


def hardware_cameras() -> list[OpenCvCameraConfig]:
    """The cameras ``GATE_TEST_HARDWARE`` names (a typo in a JSON config fails loudly)."""
    raw = os.environ.get("GATE_TEST_HARDWARE", "").strip()
    if raw.startswith(("{", "[")):
        items = json.loads(raw)
        return [
            OpenCvCameraConfig.model_validate(item)
            for item in (items if isinstance(items, list) else [items])
            if item.get("type") == "opencv"
        ]
    configs = []
    for entry in raw.split(";"):
        kind, _, target = entry.strip().partition("=")
        if kind == "camera" and target:
            configs.append(OpenCvCameraConfig(type="opencv", source=target))
    return configs


@pytest.fixture(params=["video-file", pytest.param("hardware", marks=pytest.mark.hardware)])
def camera(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Camera]:
    """A running camera of each driver that can run here; closed afterwards."""
    if request.param == "video-file":
        source = str(write_numbered_video(tmp_path / "contract.avi", frames=90))
        driver: Camera = OpenCvCamera(source, name="contract", fps=15, loop=True)
    else:
        configs = hardware_cameras()
        if not configs:
            pytest.skip("no real camera: set GATE_TEST_HARDWARE='camera=<index|path|url>'")
        driver = open_driver(configs[0], name="contract", data_dir=tmp_path)
    try:
        yield driver
    finally:
        driver.close()


def wait_frame(camera: Camera) -> None:
    assert wait_for(lambda: camera.latest_frame() is not None, 10.0), camera.health()


def test_a_frame_is_a_bgr_picture_with_time_and_sequence(camera: Camera) -> None:
    wait_frame(camera)
    frame = camera.latest_frame()
    assert frame is not None
    assert isinstance(frame.image, np.ndarray)
    assert frame.image.ndim == 3
    assert frame.image.shape[2] == 3
    assert frame.image.dtype == np.uint8
    assert not frame.image.flags.writeable
    assert abs(datetime.now(UTC) - frame.captured_at) < timedelta(seconds=5)
    assert frame.sequence >= 1
    assert 0 <= time.monotonic() - frame.monotonic < 5


def test_sequences_grow_and_frames_stay_fresh(camera: Camera) -> None:
    wait_frame(camera)
    first = camera.latest_frame()
    assert first is not None
    assert wait_for(lambda: (camera.latest_frame() or first).sequence > first.sequence, 5.0)
    later = camera.latest_frame()
    assert later is not None
    assert later.monotonic >= first.monotonic
    assert time.monotonic() - later.monotonic < 1.0


def test_health_is_ok_with_last_seen_while_frames_arrive(camera: Camera) -> None:
    wait_frame(camera)
    health = camera.health()
    assert health.state is DeviceState.OK
    assert health.last_seen is not None
    assert datetime.now(UTC) - health.last_seen < timedelta(seconds=5)


def test_latest_frame_never_blocks(camera: Camera) -> None:
    started = time.perf_counter()
    for _ in range(200):
        camera.latest_frame()
        camera.health()
    assert time.perf_counter() - started < 0.5


def test_close_releases_and_can_be_repeated(camera: Camera) -> None:
    wait_frame(camera)
    camera.close()
    assert camera.latest_frame() is None
    assert camera.health().state is DeviceState.OFFLINE
    camera.close()
