"""QR codes from camera frames: one decoder interface, two libraries and their combination.

``QrDecoder.decode(frame)`` takes a BGR or grey uint8 frame and returns the codes it read
(``DecodedCode``: text, corners, which decoder); it never raises on a frame. The decoders
are named in one table, built on demand so that a missing library fails when asked for:

    combined   zxing-cpp, then a closer look and zbar where it located a code (default)
    zxing-cpp  zxing-cpp alone
    pyzbar     zbar alone (needs Debian's libzbar0)

``build_decoder`` raises ``DriverNotAvailable`` for an unknown name or a missing library.
"""

from __future__ import annotations

from collections.abc import Callable

from gate.domain.errors import DriverNotAvailable
from recognition.qr.base import DecodedCode, LocatingDecoder, QrDecoder, Scan, as_gray
from recognition.qr.combined import FallbackDecoder
from recognition.qr.images import ImageUnreadable, quiet_opencv_warnings, read_image
from recognition.qr.zbar import ZbarDecoder
from recognition.qr.zxing import ZxingDecoder

DEFAULT_DECODER = "combined"

DECODERS: dict[str, Callable[[], QrDecoder]] = {
    "combined": lambda: FallbackDecoder(ZxingDecoder(), ZbarDecoder()),
    "zxing-cpp": ZxingDecoder,
    "pyzbar": ZbarDecoder,
}


def build_decoder(name: str = DEFAULT_DECODER) -> QrDecoder:
    """The decoder called ``name`` (see ``DECODERS``)."""
    try:
        factory = DECODERS[name]
    except KeyError:
        known = ", ".join(DECODERS)
        raise DriverNotAvailable(f"no QR decoder {name!r} (known: {known})") from None
    return factory()


__all__ = [
    "DECODERS",
    "DEFAULT_DECODER",
    "DecodedCode",
    "FallbackDecoder",
    "ImageUnreadable",
    "LocatingDecoder",
    "QrDecoder",
    "Scan",
    "ZbarDecoder",
    "ZxingDecoder",
    "as_gray",
    "build_decoder",
    "quiet_opencv_warnings",
    "read_image",
]
