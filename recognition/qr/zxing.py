"""The default decoder: zxing-cpp (``zxing-cpp`` on PyPI; no system library needed).

On the same machine and run it reads more codes than zbar and is ten times faster on a
720p frame (``benchmarks/bench_qr.py``). Asked with ``return_errors``, it also reports
codes it located but could not read: the signal the combined decoder uses to decide
that a second attempt is worth it (it costs about 0.1 ms and fired on none of the
code-free frames measured). Text is the payload as encoded (``TextMode.Plain``), not
zxing's human-readable form that writes control characters as ``<SOH>``.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import cv2
import numpy as np
import zxingcpp

from recognition.qr.base import DecodedCode, FrameDecoder, Gray, Point, Scan

logger = logging.getLogger(__name__)

# Around a located code, look this much of its side further out (quiet zone, a bad corner).
# Half a side, not a quarter: zxing-cpp's outline of a code it could not read is often
# short of the code on one side (measured: 2 more GATE frames read than at 0.25).
REGION_MARGIN = 0.5
# A region smaller than this (pixels a side) is enlarged twice before the second attempt:
# small codes (3-5 px a module) are where a closer look reads what the frame did not.
UPSCALE_BELOW = 600
# Each located outline gets its own region (a stray outline spanning half the frame would
# otherwise swallow the real one into a region too big to enlarge); at most this many.
MAX_OUTLINES = 3
# The second try on a region: unsharp masking (this Gaussian sigma in region pixels, this
# amount) against the blur of hand motion and defocus, before the same enlargement.
SHARPEN_SIGMA = 1.5
SHARPEN_AMOUNT = 1.0
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


class ZxingDecoder(FrameDecoder):
    """QR codes by zxing-cpp, with the outlines of codes it found but could not read."""

    name: ClassVar[str] = "zxing-cpp"
    library_errors: ClassVar[tuple[type[Exception], ...]] = (ValueError, TypeError, RuntimeError)

    def _read(self, gray: Gray) -> list[zxingcpp.Barcode]:
        return zxingcpp.read_barcodes(
            gray,
            formats=QR_ONLY,
            text_mode=zxingcpp.TextMode.Plain,
            return_errors=True,
        )

    def _decode_gray(self, gray: Gray) -> list[DecodedCode]:
        return [self._code(found) for found in self._read(gray) if found.valid]

    def scan(self, gray: Gray) -> Scan:
        """Codes read from a grey frame, and outlines of codes located but not read."""
        try:
            found = self._read(gray)
        except self.library_errors as exc:
            logger.debug("qr: %s failed on a %s frame: %r", self.name, gray.shape, exc)
            return Scan(codes=[], suspects=[])
        return Scan(
            codes=[self._code(item) for item in found if item.valid],
            suspects=[_corners(item.position) for item in found if not item.valid],
        )

    def decode_region(self, gray: Gray, outlines: list[tuple[Point, ...]]) -> list[DecodedCode]:
        """Read again around each of ``outlines``: enlarged, then sharpened; corners in ``gray``.

        Each region is tried as it is (enlarged twice when small) and then unsharp-masked;
        the first that reads ends the search. Costs nothing unless the first pass located
        a code it could not read.
        """
        for outline in outlines[:MAX_OUTLINES]:
            box = _region_box(gray, outline)
            if box is None:
                continue
            left, top, right, bottom = box
            region = gray[top:bottom, left:right]
            scale = 2.0 if max(region.shape) < UPSCALE_BELOW else 1.0
            for image in (region, _sharpened(region)):
                codes = self.decode_gray(_enlarged(image, scale))
                if codes:
                    return [
                        DecodedCode(
                            text=code.text,
                            corners=tuple(
                                (x / scale + left, y / scale + top) for x, y in code.corners
                            ),
                            decoder=f"{self.name}:region",
                        )
                        for code in codes
                    ]
        return []

    def _code(self, found: zxingcpp.Barcode) -> DecodedCode:
        return DecodedCode(text=found.text, corners=_corners(found.position), decoder=self.name)


def _corners(position: zxingcpp.Position) -> tuple[Point, ...]:
    return tuple(
        (float(point.x), float(point.y))
        for point in (
            position.top_left,
            position.top_right,
            position.bottom_right,
            position.bottom_left,
        )
    )


def _region_box(gray: Gray, outline: tuple[Point, ...]) -> tuple[int, int, int, int] | None:
    """Left, top, right, bottom of ``outline`` plus the margin, inside ``gray``; None if empty."""
    points = np.array(outline, np.float64)
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    margin = max(x1 - x0, y1 - y0) * REGION_MARGIN
    left, top = int(max(x0 - margin, 0)), int(max(y0 - margin, 0))
    right = int(min(x1 + margin, gray.shape[1]))
    bottom = int(min(y1 + margin, gray.shape[0]))
    if right - left < 2 or bottom - top < 2:
        return None
    return left, top, right, bottom


def _sharpened(region: Gray) -> Gray:
    """``region`` unsharp-masked: itself plus ``SHARPEN_AMOUNT`` times its detail."""
    soft = cv2.GaussianBlur(region, (0, 0), SHARPEN_SIGMA)
    return np.asarray(
        cv2.addWeighted(region, 1 + SHARPEN_AMOUNT, soft, -SHARPEN_AMOUNT, 0), dtype=np.uint8
    )


def _enlarged(region: Gray, scale: float) -> Gray:
    """``region`` scaled by ``scale`` (bicubic), as one contiguous image."""
    if scale != 1.0:
        region = np.asarray(
            cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC),
            dtype=np.uint8,
        )
    return np.ascontiguousarray(region)
