"""The fallback decoder: zbar through pyzbar (needs Debian's ``libzbar0``).

The design card named it; measured here it reads fewer codes than zxing-cpp and takes
ten times as long on a 720p frame, but it reads some codes zxing-cpp only locates (glare
on a finder pattern), so the combined decoder asks it when zxing-cpp saw a code and
could not read it. zbar's text is its own UTF-8 conversion of the payload (it guesses the
character set of non-ASCII bytes; Shift-JIS payloads come out garbled), which is exact
for the ASCII of pass tokens.
"""

from __future__ import annotations

import ctypes
from types import ModuleType
from typing import Any, ClassVar

from pyzbar.pyzbar_error import PyZbarError

from gate.domain.errors import DriverNotAvailable
from recognition.qr.base import DecodedCode, FrameDecoder, Gray, Point


class ZbarDecoder(FrameDecoder):
    """QR codes by zbar; ``DriverNotAvailable`` at construction if libzbar is missing."""

    name: ClassVar[str] = "pyzbar"
    library_errors: ClassVar[tuple[type[Exception], ...]] = (
        PyZbarError,
        ValueError,
        ArithmeticError,
        ctypes.ArgumentError,
    )

    def __init__(self) -> None:
        self._pyzbar = load_pyzbar()
        self._symbols = [self._pyzbar.ZBarSymbol.QRCODE]

    def _decode_gray(self, gray: Gray) -> list[DecodedCode]:
        return [
            DecodedCode(
                text=found.data.decode("utf-8", errors="replace"),
                corners=_outline(found),
                decoder=self.name,
            )
            for found in self._pyzbar.decode(gray, symbols=self._symbols)
        ]


def load_pyzbar() -> ModuleType:
    """``pyzbar.pyzbar``, which loads libzbar; ``DriverNotAvailable`` naming the package if not."""
    try:
        from pyzbar import pyzbar as module
    except ImportError as exc:  # pyzbar raises ImportError when it finds no libzbar
        raise DriverNotAvailable(
            f"the pyzbar QR decoder needs the zbar library (Debian package libzbar0): {exc}"
        ) from exc
    loaded: ModuleType = module
    return loaded


def _outline(found: Any) -> tuple[Point, ...]:
    if found.polygon:
        return tuple((float(point.x), float(point.y)) for point in found.polygon)
    left, top, width, height = found.rect
    return (
        (float(left), float(top)),
        (float(left + width), float(top)),
        (float(left + width), float(top + height)),
        (float(left), float(top + height)),
    )
