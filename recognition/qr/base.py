"""The decoder interface, the decoded code, and the frame checks every decoder shares.

A decoder takes a camera frame (a numpy array, BGR or grey, uint8) and returns the codes it
read; it never raises on a frame. ``FrameDecoder.decode`` turns the frame into one
contiguous grey image or refuses it (empty, too small to hold a code, wrong dtype or
shape, no contrast at all) with a debug line, then calls the library through
``_decode_gray``; the exceptions a library raises on input it dislikes are caught there,
once, and become "no codes" plus a debug line (python-can's ``recv``/``_recv_internal``).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import cv2
import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

Gray = npt.NDArray[np.uint8]
Point = tuple[float, float]
# The smallest QR code (version 1) is 21 modules; below that many pixels nothing can be read.
MIN_SIDE = 21
# A frame whose brightest and darkest pixels differ by less than this holds no code
# (a covered lens, a black night frame): the libraries are not asked.
MIN_CONTRAST = 16


@dataclass(frozen=True)
class DecodedCode:
    """A code read from a frame: its text, its corners in the frame, which decoder read it.

    ``corners`` go top-left, top-right, bottom-right, bottom-left in the code's own
    orientation where the decoder knows it (zxing-cpp), else around the outline (zbar).
    """

    text: str
    corners: tuple[Point, ...]
    decoder: str


@dataclass(frozen=True)
class Scan:
    """What a locating decoder saw: the codes it read, and outlines it found but could not read.

    ``suspects`` are the cheap evidence that a frame holds a code worth a second attempt.
    """

    codes: list[DecodedCode]
    suspects: list[tuple[Point, ...]]


class QrDecoder(Protocol):
    """Reads QR codes from camera frames; raises nothing, an unusable frame gives no codes."""

    @property
    def name(self) -> str:
        """What logs and benchmarks call it (``zxing-cpp``, ``pyzbar``, ``combined``)."""
        ...

    def decode(self, frame: npt.NDArray[Any]) -> list[DecodedCode]:
        """The codes in ``frame`` (BGR, BGRA or grey uint8); an empty list if none."""
        ...


class LocatingDecoder(QrDecoder, Protocol):
    """A decoder that also says where it saw a code it could not read."""

    def scan(self, gray: Gray) -> Scan:
        """Codes read from a grey frame, and the outlines of the ones it could not read."""
        ...

    def decode_region(self, gray: Gray, outlines: list[tuple[Point, ...]]) -> list[DecodedCode]:
        """A second, closer attempt around ``outlines`` (corners in ``gray``'s coordinates)."""
        ...


def as_gray(frame: object) -> Gray | None:
    """``frame`` as one C-contiguous grey uint8 image, or None (logged) if it cannot hold a code."""
    problem = _problem(frame)
    if problem is not None:
        logger.debug("qr: frame refused: %s", problem)
        return None
    assert isinstance(frame, np.ndarray)
    image: Gray = frame
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    elif image.ndim == 3:
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        image = np.asarray(cv2.cvtColor(np.ascontiguousarray(image), code), dtype=np.uint8)
    gray = np.ascontiguousarray(image)
    low, high, _, _ = cv2.minMaxLoc(gray)
    if high - low < MIN_CONTRAST:
        logger.debug("qr: frame refused: no contrast (%d..%d)", low, high)
        return None
    return gray


def _problem(frame: object) -> str | None:
    if not isinstance(frame, np.ndarray):
        return f"not an array ({type(frame).__name__})"
    if frame.dtype != np.uint8:
        return f"dtype {frame.dtype}, not uint8"
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        return f"shape {frame.shape}, not grey, BGR or BGRA"
    if min(frame.shape[:2]) < MIN_SIDE:
        return f"{frame.shape[1]}x{frame.shape[0]} is too small for a code"
    return None


class FrameDecoder(ABC):
    """Shared behaviour of the library decoders: the frame check and the one place errors stop."""

    name: ClassVar[str]
    # What the library raises on input it cannot handle; anything else is a bug and propagates.
    library_errors: ClassVar[tuple[type[Exception], ...]]

    def decode(self, frame: npt.NDArray[Any]) -> list[DecodedCode]:
        """The codes in ``frame``; none for a frame that cannot hold one."""
        gray = as_gray(frame)
        return [] if gray is None else self.decode_gray(gray)

    def decode_gray(self, gray: Gray) -> list[DecodedCode]:
        """The codes in a grey frame already checked by ``as_gray``."""
        try:
            return self._decode_gray(gray)
        except self.library_errors as exc:
            logger.debug("qr: %s failed on a %s frame: %r", self.name, gray.shape, exc)
            return []

    @abstractmethod
    def _decode_gray(self, gray: Gray) -> list[DecodedCode]:
        """Call the library; may raise one of ``library_errors``."""
