"""The combined decoder asks for more only where the first decoder saw a code and missed it.

Fakes record the frames they were handed; the real zxing-cpp and zbar run where a
rendered frame is known to need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from recognition.qr import (
    DecodedCode,
    FallbackDecoder,
    Scan,
    ZbarDecoder,
    ZxingDecoder,
    as_gray,
)
from recognition.qr.base import Gray, Point
from tests.recognition.qr.phone_screens import HARSH, render

OUTLINE = ((10.0, 10.0), (90.0, 10.0), (90.0, 90.0), (10.0, 90.0))


def code(text: str, decoder: str) -> DecodedCode:
    return DecodedCode(text=text, corners=OUTLINE, decoder=decoder)


@dataclass
class RecordingDecoder:
    """Returns ``codes`` (or what ``inner`` reads) and keeps every frame it was given."""

    codes: list[DecodedCode] = field(default_factory=list)
    inner: Any = None
    name: str = "recording"
    frames: list[npt.NDArray[Any]] = field(default_factory=list)

    def decode(self, frame: npt.NDArray[Any]) -> list[DecodedCode]:
        self.frames.append(frame)
        return self.inner.decode(frame) if self.inner is not None else list(self.codes)


@dataclass
class ScriptedLocator:
    """A locating decoder whose scan and closer look give what the test says; it records both."""

    scan_result: Scan
    region_codes: list[DecodedCode] = field(default_factory=list)
    name: str = "scripted"
    scans: list[Gray] = field(default_factory=list)
    regions: list[list[tuple[Point, ...]]] = field(default_factory=list)

    def decode(self, frame: npt.NDArray[Any]) -> list[DecodedCode]:
        return self.scan(frame).codes

    def scan(self, gray: Gray) -> Scan:
        self.scans.append(gray)
        return self.scan_result

    def decode_region(self, gray: Gray, outlines: list[tuple[Point, ...]]) -> list[DecodedCode]:
        self.regions.append(outlines)
        return list(self.region_codes)


FRAME = np.tile(np.arange(256, dtype=np.uint8), (100, 1))  # grey, with contrast


def test_a_code_read_at_once_asks_nothing_more() -> None:
    primary = ScriptedLocator(Scan(codes=[code("GP1:A", "scripted")], suspects=[OUTLINE]))
    fallback = RecordingDecoder(codes=[code("never", "fallback")])
    decoded = FallbackDecoder(primary, fallback).decode(FRAME)
    assert [c.text for c in decoded] == ["GP1:A"]
    assert primary.regions == []
    assert fallback.frames == []


def test_a_frame_where_nothing_was_located_asks_nothing_more() -> None:
    primary = ScriptedLocator(Scan(codes=[], suspects=[]))
    fallback = RecordingDecoder(codes=[code("never", "fallback")])
    assert FallbackDecoder(primary, fallback).decode(FRAME) == []
    assert len(primary.scans) == 1
    assert primary.regions == []
    assert fallback.frames == []


def test_a_located_code_is_looked_at_closer_before_the_fallback() -> None:
    primary = ScriptedLocator(
        Scan(codes=[], suspects=[OUTLINE]), region_codes=[code("GP1:B", "scripted:region")]
    )
    fallback = RecordingDecoder(codes=[code("never", "fallback")])
    decoded = FallbackDecoder(primary, fallback).decode(FRAME)
    assert [c.text for c in decoded] == ["GP1:B"]
    assert primary.regions == [[OUTLINE]]
    assert fallback.frames == []


def test_the_fallback_reads_a_located_code_the_closer_look_missed() -> None:
    primary = ScriptedLocator(Scan(codes=[], suspects=[OUTLINE]))
    fallback = RecordingDecoder(codes=[code("GP1:C", "fallback")])
    decoded = FallbackDecoder(primary, fallback).decode(np.dstack([FRAME] * 3))
    assert [(c.text, c.decoder) for c in decoded] == [("GP1:C", "fallback")]
    (handed,) = fallback.frames
    assert handed.shape == FRAME.shape  # the grey frame, converted once
    assert primary.scans[0] is handed


def test_without_a_fallback_the_closer_look_is_the_last_attempt() -> None:
    primary = ScriptedLocator(Scan(codes=[], suspects=[OUTLINE]))
    assert FallbackDecoder(primary, None).decode(FRAME) == []
    assert primary.regions == [[OUTLINE]]


def test_a_broken_frame_reaches_no_decoder() -> None:
    primary = ScriptedLocator(Scan(codes=[], suspects=[OUTLINE]))
    fallback = RecordingDecoder()
    combined = FallbackDecoder(primary, fallback)
    for frame in (np.zeros((0, 0), np.uint8), np.zeros((720, 1280), np.uint8), np.ones((50, 50))):
        assert combined.decode(frame) == []
    assert primary.scans == []
    assert fallback.frames == []


# --- the real decoders ------------------------------------------------------------------


def test_zbar_is_used_where_zxing_located_the_code_and_missed_it() -> None:
    # Frame 121: glare on the code; zxing-cpp locates it, reads nothing even closer; zbar does.
    screen = render(121)
    zxing = ZxingDecoder()
    assert zxing.decode(screen.frame) == []
    fallback = RecordingDecoder(inner=ZbarDecoder())
    decoded = FallbackDecoder(zxing, fallback).decode(screen.frame)
    assert [(c.text, c.decoder) for c in decoded] == [(screen.text, "pyzbar")]
    assert len(fallback.frames) == 1


def test_the_closer_look_reads_a_small_code_without_zbar() -> None:
    # Frame 154: 3.4 px a module; zxing-cpp reads it from the region enlarged twice.
    screen = render(154)
    zxing = ZxingDecoder()
    assert zxing.decode(screen.frame) == []
    fallback = RecordingDecoder(inner=ZbarDecoder())
    decoded = FallbackDecoder(zxing, fallback).decode(screen.frame)
    assert [(c.text, c.decoder) for c in decoded] == [(screen.text, "zxing-cpp:region")]
    assert fallback.frames == []
    assert all(0 <= x < 1280 and 0 <= y < 720 for x, y in decoded[0].corners)


class CountingZxing(ZxingDecoder):
    """zxing-cpp that keeps the shape of every image it was asked to read."""

    def __init__(self) -> None:
        self.reads: list[tuple[int, ...]] = []

    def _read(self, gray: Gray) -> list[Any]:
        self.reads.append(gray.shape)
        return super()._read(gray)


def test_the_sharpened_region_reads_a_blurred_small_code() -> None:
    # HARSH frame 29: 3.3 px a module under 3 px of motion and glare. zxing-cpp locates it
    # and reads nothing, nor from the enlarged region, nor does zbar (the decoder before
    # the sharpened try missed it); unsharp-masked and enlarged, the region reads.
    screen = render(29, conditions=HARSH)
    assert ZxingDecoder().decode(screen.frame) == []
    assert ZbarDecoder().decode(screen.frame) == []
    zxing = CountingZxing()
    fallback = RecordingDecoder(inner=ZbarDecoder())
    decoded = FallbackDecoder(zxing, fallback).decode(screen.frame)
    assert [(c.text, c.decoder) for c in decoded] == [(screen.text, "zxing-cpp:region")]
    frame_read, plain, sharpened = zxing.reads
    assert frame_read == (720, 1280)
    assert plain == sharpened  # the same region, enlarged twice
    assert fallback.frames == []


def test_each_located_outline_gets_its_own_region() -> None:
    # GATE frame 286: zxing-cpp reports two outlines, one of them stray and half the frame
    # wide; one box around both was too big to enlarge and read nothing, zbar neither.
    screen = render(286)
    zxing = ZxingDecoder()
    gray = as_gray(screen.frame)
    assert gray is not None
    scan = zxing.scan(gray)
    assert scan.codes == []
    assert len(scan.suspects) == 2
    assert ZbarDecoder().decode(screen.frame) == []
    decoded = FallbackDecoder(zxing, None).decode(screen.frame)
    assert [c.text for c in decoded] == [screen.text]


def test_a_code_free_frame_costs_one_zxing_pass() -> None:
    zxing = CountingZxing()
    fallback = RecordingDecoder(inner=ZbarDecoder())
    combined = FallbackDecoder(zxing, fallback)
    frames = [render(index, seed=11, with_code=False).frame for index in range(6)]
    frames.append(np.random.default_rng(5).integers(0, 256, (720, 1280), dtype=np.uint8))
    for frame in frames:
        assert combined.decode(frame) == []
    assert zxing.reads == [(720, 1280)] * len(frames)
    assert fallback.frames == []


def test_code_free_frames_never_reach_the_fallback() -> None:
    fallback = RecordingDecoder(inner=ZbarDecoder())
    combined = FallbackDecoder(ZxingDecoder(), fallback)
    for index in range(12):  # phones showing a page of text where a code would be
        assert combined.decode(render(index, seed=11, with_code=False).frame) == []
    noise = np.random.default_rng(5).integers(0, 256, (720, 1280), dtype=np.uint8)
    assert combined.decode(noise) == []
    assert fallback.frames == []
