"""A QR scanner in serial mode (RS-232, USB-serial, USB-CDC): one terminated line per code.

- Lines end with the configured terminator (CR, LF or CRLF). A code split over several
  reads is buffered until its terminator; a stray CR or LF at either end of a line (a
  scanner sending CRLF to a port set to CR) is stripped, one inside a code is kept.
- A line that grows past ``max_code_bytes`` without a terminator is garbage (wrong baud
  rate, a scanner in another mode): it is dropped up to the next terminator, and the
  scanner is degraded for a while. The buffer never grows past the bound.
- Text is decoded as UTF-8 and, failing that, as GB18030 (what Chinese scanners send in
  GBK mode); bytes valid in neither become U+FFFD. Shift-JIS comes out as mojibake
  rather than an error: decoding never raises.
- ``serial.SerialException`` and ``OSError`` become ``DeviceIOError`` in ``_io``, once.
"""

from __future__ import annotations

import logging
import os
import select
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

import serial

from devices.qr import ScannerDriver
from devices.qr.config import SerialQrConfig
from gate.domain.errors import DeviceIOError

logger = logging.getLogger(__name__)

TERMINATORS: dict[str, bytes] = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}


class LineFramer:
    """Cuts a byte stream into terminated lines, bounding a line that never ends."""

    def __init__(self, terminator: bytes, *, max_length: int = 8192) -> None:
        if not terminator or max_length < 1:
            raise ValueError("a terminator and a positive max_length are needed")
        self.terminator = terminator
        self.max_length = max_length
        self.dropped_bytes = 0
        self._buffer = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes]:
        """Take received bytes; the lines they completed, terminators removed."""
        self._buffer += data
        lines = []
        while (end := self._buffer.find(self.terminator)) >= 0:
            line = bytes(self._buffer[:end])
            del self._buffer[: end + len(self.terminator)]
            if self._discarding or len(line) > self.max_length:
                self._discarding = False
                self.dropped_bytes += len(line)
                continue
            lines.append(line)
        if len(self._buffer) > self.max_length:
            # Keep a tail that may be the first half of a two-byte terminator.
            cut = len(self._buffer) - (len(self.terminator) - 1)
            self.dropped_bytes += cut
            del self._buffer[:cut]
            self._discarding = True
        return lines

    def clear(self) -> None:
        """Forget a partial line (the port was reopened)."""
        self._buffer.clear()
        self._discarding = False


def decode_code(raw: bytes) -> str:
    """A code's text: UTF-8, else GB18030, else GB18030 with U+FFFD; never raises."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    logger.warning("a scanned code is neither UTF-8 nor GB18030 (%d bytes)", len(raw))
    return raw.decode("gb18030", errors="replace")


class SerialQrScanner(ScannerDriver):
    """``QrScanner`` port on a serial port; opened at once, reopened on failure."""

    def __init__(
        self,
        port: str,
        *,
        name: str = "qr",
        baud: int = 9600,
        terminator: Literal["cr", "lf", "crlf"] = "cr",
        max_code_bytes: int = 8192,
    ) -> None:
        super().__init__(name)
        self.port = port
        self._baud = baud
        self._framer = LineFramer(TERMINATORS[terminator], max_length=max_code_bytes)
        self._serial: Any = None  # serial.Serial while open; guarded by _io_lock
        self._wake_r, self._wake_w = os.pipe()  # close() wakes a read blocked in select
        with self._io_lock, suppress(DeviceIOError):
            self._reconnect()  # an unplugged scanner must not stop the gate starting

    @classmethod
    def from_config(cls, config: SerialQrConfig, *, name: str, data_dir: Path) -> SerialQrScanner:
        """Build from a ``serial-qr`` config."""
        return cls(config.port, name=name, baud=config.baud, terminator=config.terminator)

    def read_code(self, timeout: float) -> str | None:
        """The next scanned code; None if none within ``timeout``; ``DeviceIOError``."""
        return self._read(timeout)

    def close(self) -> None:
        """Close the port; a ``read_code`` waiting in another thread returns at once."""
        if self._closing.is_set():
            return
        self._closing.set()
        os.write(self._wake_w, b"x")
        with self._io_lock:
            self._disconnect_internal()
            os.close(self._wake_r)
            os.close(self._wake_w)
        self._mark_closed()

    # --- inside the I/O lock --------------------------------------------------------------

    def _connected(self) -> bool:
        return self._serial is not None

    def _connect_internal(self) -> None:
        with self._io("open"):
            self._serial = serial.Serial(
                port=self.port, baudrate=self._baud, timeout=0, exclusive=True
            )
            # Bytes that waited in the port before we opened it are stale scans.
            self._serial.reset_input_buffer()
        self._framer.clear()
        self._seen()
        logger.info("%s: opened %s at %d baud", self.name, self.port, self._baud)

    def _read_internal(self, timeout: float) -> str | None:
        """A code already framed, else what comes within ``timeout``."""
        code = self._take()
        if code is None:
            self._receive(self._serial, timeout)
            code = self._take()
        return code

    def _receive(self, port: Any, timeout: float) -> None:
        """Wait up to ``timeout`` for bytes and turn whatever came into codes."""
        with self._io("read"):
            ready, _, _ = select.select([port.fileno(), self._wake_r], [], [], timeout)
            if port.fileno() not in ready:
                self._alive()
                return
            data = port.read(max(1, port.in_waiting))
        self._alive()
        dropped = self._framer.dropped_bytes
        for line in self._framer.feed(data):
            code = decode_code(line.strip(b"\r\n"))
            if code:
                self._push(code)
        if self._framer.dropped_bytes > dropped:
            self._trouble(f"dropped {self._framer.dropped_bytes - dropped} bytes of garbage")

    def _disconnect_internal(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                logger.debug("%s: closing %s failed", self.name, self.port, exc_info=True)

    @contextmanager
    def _io(self, operation: str) -> Iterator[None]:
        """Map pyserial's and the OS's errors into ``DeviceIOError``: the one place."""
        try:
            yield
        except (serial.SerialException, OSError, ValueError) as exc:
            # ValueError: pyserial's answer to a port closed under it, or a bad setting.
            raise DeviceIOError(f"{operation} {self.port} failed: {exc}", device=self.name) from exc
