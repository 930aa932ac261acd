"""OpenCvCamera against real video files written with cv2.VideoWriter.

Each frame carries its own number as a row of black/white blocks (robust to MJPG), so a
test can tell which frame of the file it got, not only how many the driver kept.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera.config import OpenCvCameraConfig
from devices.camera.opencv import OpenCvCamera, SourceKind, classify, describe
from devices.drivers import open_driver
from gate.domain.device_ports import DeviceState, Frame
from tests.conftest import shared_data

BITS = 10  # frame numbers up to 1023
BLOCK = 24  # pixels per bit block


def write_numbered_video(
    path: Path,
    *,
    frames: int,
    fps: float = 30.0,
    size: tuple[int, int] = (320, 240),
    background: np.ndarray | None = None,
) -> Path:
    """Write an MJPG .avi whose frame ``i`` shows ``i`` in a row of blocks at the top."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "this OpenCV build cannot write MJPG"
    try:
        base = (
            np.full((height, width, 3), 96, np.uint8)
            if background is None
            else cv2.resize(background, size)
        )
        for index in range(frames):
            image = base.copy()
            for bit in range(BITS):
                value = 255 if index >> bit & 1 else 0
                image[0:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = value
            writer.write(image)
    finally:
        writer.release()
    return path


def frame_number(image: np.ndarray) -> int:
    """The number ``write_numbered_video`` drew into a frame."""
    number = 0
    for bit in range(BITS):
        inner = image[4 : BLOCK - 4, bit * BLOCK + 4 : (bit + 1) * BLOCK - 4]
        if inner.mean() > 128:
            number |= 1 << bit
    return number


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def first_frame(camera: OpenCvCamera, timeout: float = 5.0) -> Frame:
    """The first frame the camera keeps; fails the test if none comes."""
    assert wait_for(lambda: camera.latest_frame() is not None, timeout), camera.health()
    frame = camera.latest_frame()
    assert frame is not None
    return frame


@pytest.fixture
def cameras() -> Iterator[list[OpenCvCamera]]:
    """Cameras a test opens; all closed afterwards, even when the test fails."""
    opened: list[OpenCvCamera] = []
    yield opened
    for camera in opened:
        camera.close()


@pytest.fixture
def numbered_video(tmp_path: Path) -> Path:
    """Ten seconds of 30 fps 320x240 video, each frame numbered."""
    return write_numbered_video(tmp_path / "numbered.avi", frames=300)


def test_the_number_survives_the_codec(tmp_path: Path) -> None:
    path = write_numbered_video(tmp_path / "check.avi", frames=40)
    capture = cv2.VideoCapture(str(path))
    try:
        numbers = []
        while True:
            ok, image = capture.read()
            if not ok:
                break
            numbers.append(frame_number(image))
    finally:
        capture.release()
    assert numbers == list(range(40))


def test_frames_arrive_with_their_metadata(cameras: list[OpenCvCamera], numbered_video: Path):
    camera = OpenCvCamera(str(numbered_video), name="cam", fps=30)
    cameras.append(camera)
    frame = first_frame(camera)
    assert frame.image.shape == (240, 320, 3)
    assert frame.image.dtype == np.uint8
    assert frame.captured_at.tzinfo is not None
    assert frame.sequence >= 1
    assert not frame.image.flags.writeable  # shared between consumers
    health = camera.health()
    assert health.state is DeviceState.OK
    assert health.last_seen is not None


def test_latest_frame_is_the_same_until_a_newer_one(
    cameras: list[OpenCvCamera], numbered_video: Path
):
    camera = OpenCvCamera(str(numbered_video), name="cam", fps=5)
    cameras.append(camera)
    first = first_frame(camera)
    assert camera.latest_frame() is first  # reading does not consume
    assert wait_for(lambda: (camera.latest_frame() or first).sequence > first.sequence)


def test_a_slow_consumer_gets_a_recent_frame_not_an_old_one(
    cameras: list[OpenCvCamera], numbered_video: Path
):
    camera = OpenCvCamera(str(numbered_video), name="cam", fps=30)
    cameras.append(camera)
    before = first_frame(camera)
    time.sleep(1.0)  # a consumer busy with a face encoding
    after = camera.latest_frame()
    assert after is not None
    age = time.monotonic() - after.monotonic
    assert age < 0.5, f"latest frame is {age:.3f} s old"
    # The file plays on in real time while nobody looks: about 30 frames went by.
    skipped = frame_number(after.image) - frame_number(before.image)
    assert 15 <= skipped <= 45, skipped
    assert after.sequence - before.sequence >= 15


def test_the_fps_cap_holds(cameras: list[OpenCvCamera], numbered_video: Path):
    camera = OpenCvCamera(str(numbered_video), name="cam", fps=10)
    cameras.append(camera)
    start = first_frame(camera)
    t0 = time.monotonic()
    time.sleep(2.0)
    end = camera.latest_frame()
    assert end is not None
    elapsed = time.monotonic() - t0
    kept_fps = (end.sequence - start.sequence) / elapsed
    media_fps = (frame_number(end.image) - frame_number(start.image)) / elapsed
    print(f"cap 10 fps on a 30 fps file: kept {kept_fps:.1f} fps, played {media_fps:.1f} fps")
    assert 5 <= kept_fps <= 12, kept_fps  # capped, not the file's 30
    assert 20 <= media_fps <= 40, media_fps  # still real time: frames skipped, not slowed


def test_frame_age_stays_within_a_frame_interval(cameras: list[OpenCvCamera], numbered_video: Path):
    camera = OpenCvCamera(str(numbered_video), name="cam", fps=20)
    cameras.append(camera)
    first_frame(camera)
    ages = []
    for _ in range(60):
        time.sleep(0.013)  # out of step with the 50 ms frame interval
        frame = camera.latest_frame()
        assert frame is not None
        ages.append(time.monotonic() - frame.monotonic)
    print(
        f"frame age at 20 fps: median {statistics.median(ages) * 1000:.1f} ms,"
        f" max {max(ages) * 1000:.1f} ms"
    )
    assert statistics.median(ages) < 0.1
    assert max(ages) < 0.5


def test_latest_frame_returns_at_once(cameras: list[OpenCvCamera], numbered_video: Path):
    camera = OpenCvCamera(str(numbered_video), name="cam", fps=30)
    cameras.append(camera)
    first_frame(camera)
    started = time.perf_counter()
    for _ in range(1000):
        camera.latest_frame()
    per_call = (time.perf_counter() - started) / 1000
    assert per_call < 0.005, per_call


def test_a_looped_file_restarts_at_its_end(cameras: list[OpenCvCamera], tmp_path: Path):
    path = write_numbered_video(tmp_path / "short.avi", frames=10)  # a third of a second
    camera = OpenCvCamera(str(path), name="cam", fps=30, loop=True)
    cameras.append(camera)
    seen: list[int] = []
    last_sequence = 0
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        frame = camera.latest_frame()
        if frame is not None and frame.sequence != last_sequence:
            last_sequence = frame.sequence
            seen.append(frame_number(frame.image))
        assert camera.health().state is DeviceState.OK or not seen
        time.sleep(0.005)
    wraps = sum(1 for a, b in itertools.pairwise(seen) if b < a)
    assert wraps >= 2, seen
    assert camera.open_attempts == 1  # rewound, not reopened


def test_a_file_without_loop_ends_offline_then_plays_again(
    cameras: list[OpenCvCamera], tmp_path: Path
):
    path = write_numbered_video(tmp_path / "short.avi", frames=6)
    camera = OpenCvCamera(str(path), name="cam", fps=30)
    cameras.append(camera)
    first_frame(camera)
    assert wait_for(lambda: camera.health().state is DeviceState.OFFLINE, 2.0)
    health = camera.health()
    assert "ended" in health.detail
    assert camera.latest_frame() is None  # an old picture never passes for a current one
    # After the first backoff (0.5 s) the file is opened again.
    assert wait_for(lambda: camera.open_attempts >= 2, 2.0)


@pytest.mark.parametrize(
    "source",
    ["missing.avi", "rtsp://127.0.0.1:9/nothing", "rtsp://user:secret@127.0.0.1:9/cam"],
)
def test_a_missing_source_is_offline_with_backoff(
    cameras: list[OpenCvCamera], tmp_path: Path, source: str
):
    if source.endswith(".avi"):
        source = str(tmp_path / source)
    camera = OpenCvCamera(source, name="cam", fps=10)
    cameras.append(camera)
    assert camera.latest_frame() is None
    assert wait_for(lambda: camera.open_attempts >= 1)
    time.sleep(1.0)
    health = camera.health()
    assert health.state is DeviceState.OFFLINE
    assert "cannot open" in health.detail
    assert "secret" not in health.detail
    assert health.last_seen is None
    # Backoff 0.5 s then 1 s: two or three attempts in a second, not a tight loop.
    assert 1 <= camera.open_attempts <= 3, camera.open_attempts
    assert camera.latest_frame() is None


def test_close_stops_the_thread_and_is_idempotent(numbered_video: Path):
    camera = OpenCvCamera(str(numbered_video), name="cam", fps=30)
    first_frame(camera)
    camera.close()
    assert not camera._thread.is_alive()
    assert camera._capture is None
    assert camera.latest_frame() is None
    health = camera.health()
    assert (health.state, health.detail) == (DeviceState.OFFLINE, "closed")
    camera.close()


def test_close_while_waiting_out_a_backoff_is_prompt(tmp_path: Path):
    camera = OpenCvCamera(str(tmp_path / "missing.avi"), name="cam")
    wait_for(lambda: camera.open_attempts >= 1)
    started = time.monotonic()
    camera.close()
    assert time.monotonic() - started < 1.0
    assert not camera._thread.is_alive()


def test_a_real_picture_at_720p(cameras: list[OpenCvCamera], tmp_path: Path):
    picture = cv2.imread(
        str(shared_data("faces/ageitgey-face_recognition/examples/obama-720p.jpg"))
    )
    assert picture is not None
    path = write_numbered_video(
        tmp_path / "obama.avi", frames=60, size=(1280, 720), background=picture
    )
    camera = OpenCvCamera(str(path), name="cam", fps=15)
    cameras.append(camera)
    start = first_frame(camera)
    assert start.image.shape == (720, 1280, 3)
    time.sleep(1.0)
    end = camera.latest_frame()
    assert end is not None
    kept = end.sequence - start.sequence
    print(f"720p MJPG at cap 15: kept {kept} frames in 1 s")
    assert 8 <= kept <= 18, kept


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (0, (0, SourceKind.DEVICE)),
        ("1", (1, SourceKind.DEVICE)),
        ("/dev/video2", ("/dev/video2", SourceKind.DEVICE)),
        ("rtsp://cam.local/stream1", ("rtsp://cam.local/stream1", SourceKind.STREAM)),
        ("http://cam.local/mjpg", ("http://cam.local/mjpg", SourceKind.STREAM)),
        ("file:///srv/demo.avi", ("/srv/demo.avi", SourceKind.FILE)),
        ("demo/gate.avi", ("demo/gate.avi", SourceKind.FILE)),
    ],
)
def test_sources_are_classified(source: str | int, expected: tuple[str | int, SourceKind]):
    assert classify(source) == expected


def test_a_stream_password_is_masked():
    assert (
        describe("rtsp://admin:hunter2@10.0.0.5:554/h264") == "rtsp://admin:***@10.0.0.5:554/h264"
    )
    assert describe("rtsp://10.0.0.5/h264") == "rtsp://10.0.0.5/h264"


@pytest.mark.parametrize("password", ["s3cr/et", "p@ss", "x/y@z"])
def test_describe_masks_a_password_with_a_slash_or_an_at(password: str) -> None:
    shown = describe(f"rtsp://admin:{password}@10.0.0.5:554/h264")
    assert shown == "rtsp://admin:***@10.0.0.5:554/h264"


def test_the_driver_table_builds_it_with_a_path_under_the_data_dir(tmp_path: Path):
    write_numbered_video(tmp_path / "demo.avi", frames=30)
    config = OpenCvCameraConfig(type="opencv", source="demo.avi", fps=10, loop=True)
    camera = open_driver(config, name="lane1-camera", data_dir=tmp_path)
    try:
        assert isinstance(camera, OpenCvCamera)
        assert first_frame(camera).image.shape == (240, 320, 3)
    finally:
        camera.close()
