"""The gate's decoder: zxing-cpp on every frame, more only where a code was seen and not read.

Most frames at a gate hold no code (nobody there, a face, a card): they cost one zxing-cpp
pass and nothing more. Where zxing-cpp reads nothing but located a code it could not
read (its ``return_errors`` outlines), two more attempts follow, cheapest first: zxing-cpp
again on the region around each outline, enlarged when small and then also unsharp-masked
(a few ms), then zbar on the whole frame (about 20 ms at 720p). A cheap texture test to
also catch codes zxing-cpp did not locate at all was measured and rejected: it fired on
most code-free frames (faces, text on a phone) while adding little
(``benchmarks/bench_qr.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy.typing as npt

from recognition.qr.base import DecodedCode, LocatingDecoder, QrDecoder, as_gray


class FallbackDecoder:
    """``primary`` first; its closer look and then ``fallback`` only for codes it located."""

    name: ClassVar[str] = "combined"

    def __init__(self, primary: LocatingDecoder, fallback: QrDecoder | None) -> None:
        self.primary = primary
        self.fallback = fallback

    def decode(self, frame: npt.NDArray[Any]) -> list[DecodedCode]:
        """The codes in ``frame``; none for a frame that cannot hold one."""
        gray = as_gray(frame)
        if gray is None:
            return []
        scan = self.primary.scan(gray)
        if scan.codes or not scan.suspects:
            return scan.codes
        codes = self.primary.decode_region(gray, scan.suspects)
        if codes or self.fallback is None:
            return codes
        return self.fallback.decode(gray)
