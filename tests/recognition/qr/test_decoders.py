"""The decoders on real photos, on rendered phone screens and on frames that hold nothing.

Floors are the counts measured with zxing-cpp 3.1.1 and zbar 0.23.92 (Debian 12) less a
little room for another library build; ``benchmarks/bench_qr.py`` prints the figures.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from gate.domain.errors import DriverNotAvailable
from recognition.qr import DECODERS, QrDecoder, build_decoder
from tests.recognition.qr.frames import Photo, in_720p_frame
from tests.recognition.qr.phone_screens import PhoneScreen, render

# name -> (as-is, in a 720p frame): measured 166/166, 147/139, 168/167 of 179.
BLACKBOX_FLOORS = {"zxing-cpp": (164, 164), "pyzbar": (144, 136), "combined": (166, 165)}
# Of the first 60 phone screens: measured 60, 52 and 60.
PHONE_FLOORS = {"zxing-cpp": 59, "pyzbar": 50, "combined": 59}


@pytest.fixture(scope="module", params=list(DECODERS))
def decoder(request: pytest.FixtureRequest) -> QrDecoder:
    """Each decoder of the table, built once per module."""
    return build_decoder(request.param)


def read_right(decoder: QrDecoder, photos: list[Photo], *, framed: bool) -> tuple[int, list[str]]:
    """How many photos gave their exact text, and the names of those that gave another."""
    right, wrong = 0, []
    for photo in photos:
        texts = [
            code.text
            for code in decoder.decode(in_720p_frame(photo.image) if framed else photo.image)
        ]
        if photo.text in texts:
            right += 1
        elif texts:
            wrong.append(photo.name)
    return right, wrong


@pytest.mark.parametrize("framed", [False, True], ids=["as-is", "in-720p"])
def test_blackbox_photos_decode_at_least_the_measured_rate(
    decoder: QrDecoder, blackbox: list[Photo], framed: bool
) -> None:
    right, wrong = read_right(decoder, blackbox, framed=framed)
    floor = BLACKBOX_FLOORS[decoder.name][framed]
    assert right >= floor, f"{decoder.name}: {right}/179 read, floor {floor}"
    if decoder.name != "pyzbar":  # zbar guesses the charset of Shift-JIS payloads wrongly
        assert wrong == [], f"{decoder.name} read another text from {wrong}"


def test_the_default_meets_the_goal_on_real_photos(blackbox: list[Photo]) -> None:
    right, _ = read_right(build_decoder(), blackbox, framed=True)
    assert right / len(blackbox) >= 0.93


def test_phone_screens_decode_at_least_the_measured_rate(
    decoder: QrDecoder, phone_set: list[PhoneScreen]
) -> None:
    missed = [s.index for s in phone_set if s.text not in [c.text for c in decoder.decode(s.frame)]]
    read = len(phone_set) - len(missed)
    assert read >= PHONE_FLOORS[decoder.name], f"{decoder.name} missed frames {missed}"


def test_a_decoded_code_has_its_corners_in_the_frame(decoder: QrDecoder) -> None:
    screen = render(3)
    (code,) = decoder.decode(screen.frame)
    assert code.text == screen.text
    assert len(code.corners) == 4
    assert all(0 <= x < 1280 and 0 <= y < 720 for x, y in code.corners)


def test_code_free_frames_give_no_codes(decoder: QrDecoder) -> None:
    for index in range(5):
        assert decoder.decode(render(index, seed=7, with_code=False).frame) == []


# --- frames that cannot hold a code -----------------------------------------------------

BROKEN_FRAMES = {
    "empty": np.zeros((0, 0), np.uint8),
    "empty-bgr": np.zeros((0, 10, 3), np.uint8),
    "1x1": np.zeros((1, 1), np.uint8),
    "1x1-bgr": np.full((1, 1, 3), 255, np.uint8),
    "20x400": np.random.default_rng(1).integers(0, 256, (20, 400), dtype=np.uint8),
    "float64": np.random.default_rng(2).random((720, 1280)),
    "int16": np.zeros((100, 100), np.int16),
    "bool": np.ones((100, 100), bool),
    "all-black": np.zeros((720, 1280, 3), np.uint8),
    "all-white": np.full((720, 1280), 255, np.uint8),
    "two-channels": np.zeros((100, 100, 2), np.uint8),
    "four-dimensions": np.zeros((5, 5, 5, 5), np.uint8),
    "one-dimension": np.zeros(1000, np.uint8),
    "zero-dimensions": np.array(7, np.uint8),
    "objects": np.array([[None, None]] * 30, dtype=object),
}


@pytest.mark.parametrize("frame", BROKEN_FRAMES.values(), ids=BROKEN_FRAMES.keys())
def test_a_broken_frame_gives_no_codes_and_raises_nothing(
    decoder: QrDecoder, frame: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="recognition.qr")
    assert decoder.decode(frame) == []
    assert [record.levelno for record in caplog.records] == [logging.DEBUG]
    assert "frame refused" in caplog.records[0].getMessage()


def test_a_frame_of_noise_gives_no_codes(decoder: QrDecoder) -> None:
    noise = np.random.default_rng(3).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    assert decoder.decode(noise) == []


def test_not_an_array_gives_no_codes(decoder: QrDecoder) -> None:
    assert decoder.decode(None) == []  # type: ignore[arg-type]
    assert decoder.decode([[0, 255], [255, 0]]) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("layout", ["grey", "grey-1-channel", "bgra", "read-only", "strided"])
def test_frames_in_any_usable_layout_decode(decoder: QrDecoder, layout: str) -> None:
    screen = render(3)
    frame = screen.frame
    if layout == "grey":
        frame = frame.mean(axis=2).astype(np.uint8)
    elif layout == "grey-1-channel":
        frame = frame.mean(axis=2).astype(np.uint8)[:, :, None]
    elif layout == "bgra":
        frame = np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)])
    elif layout == "read-only":  # what a camera driver shares (gate.domain.device_ports.Frame)
        frame = frame.copy()
        frame.setflags(write=False)
    else:  # a view every other column of a frame twice as wide
        wide = np.repeat(frame, 2, axis=1)
        frame = wide[:, ::2]
    assert [code.text for code in decoder.decode(frame)] == [screen.text]


def test_an_unknown_decoder_is_refused_with_the_known_names() -> None:
    with pytest.raises(DriverNotAvailable, match="combined, zxing-cpp, pyzbar"):
        build_decoder("zbarcam")
