"""Emulated QR scanners for tests and the demo; the real drivers talk to them.

- ``PtyQrScanner``: a serial scanner on a pseudo-terminal. ``SerialQrScanner`` opens its
  ``port`` like any serial port; ``scan(code)`` sends the bytes a scanner would. Given a
  ``link`` it publishes the port as a symlink (as udev's ``/dev/serial/by-id`` does), so
  ``unplug()`` and ``plug()`` can show the driver losing and finding the scanner again.
- ``EmulatedKeyboard``: a keyboard-wedge scanner as ``HidQrScanner`` sees it. Pass its
  ``opener`` to the driver; ``scan(code)`` types the key events of a US keyboard through
  a pipe the driver polls like an input device.

Neither imports pyserial or evdev.
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
import threading
import tty
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from devices.qr.keymap import (
    EV_KEY,
    EV_SYN,
    KEY_ENTER,
    SYN_DROPPED,
    SYN_REPORT,
    key_events,
)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class PtyQrScanner:
    """A serial QR scanner on a pseudo-terminal."""

    def __init__(
        self, *, terminator: bytes = b"\r", encoding: str = "utf-8", link: Path | None = None
    ) -> None:
        self.terminator = terminator
        self.encoding = encoding
        self.link = link
        self._master = self._slave = -1
        self.plug()

    @property
    def port(self) -> str:
        """The path the driver opens: the link if there is one, else the pty itself."""
        return str(self.link) if self.link is not None else self._slave_name

    def scan(self, code: str, *, encoding: str | None = None) -> None:
        """Send ``code`` as a scanner does: encoded, then the terminator."""
        self.send(code.encode(encoding or self.encoding) + self.terminator)

    def send(self, data: bytes) -> None:
        """Send raw bytes (blocks once ~20 KB wait unread, like a real line)."""
        if self._master < 0:
            raise OSError(errno.ENODEV, "the emulated scanner is unplugged")
        _write_all(self._master, data)

    def unplug(self) -> None:
        """Pull the cable: the driver's reads fail and the port disappears."""
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1
        if self.link is not None:
            self.link.unlink(missing_ok=True)

    def plug(self) -> None:
        """Plug in (again): a fresh pty, published at ``link`` if there is one."""
        if self._master >= 0:
            return
        self._master, self._slave = os.openpty()
        # Raw at once: bytes sent before the driver opens must not be translated.
        tty.setraw(self._slave)
        self._slave_name = os.ttyname(self._slave)
        if self.link is not None:
            self.link.unlink(missing_ok=True)
            self.link.symlink_to(self._slave_name)

    def close(self) -> None:
        """Release the pty."""
        self.unplug()

    def __enter__(self) -> PtyQrScanner:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_EVENT = struct.Struct("=HHi")


class _PipeSource:
    """One opening of the emulated keyboard: events arrive through a pipe."""

    def __init__(self) -> None:
        self._read_fd, self.write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._rest = b""
        self.gone = False

    def fileno(self) -> int:
        return self._read_fd

    def read_events(self) -> list[tuple[int, int, int]]:
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        try:
            data = self._rest + os.read(self._read_fd, 64 * 1024)
        except BlockingIOError:
            return []
        whole = len(data) - len(data) % _EVENT.size
        self._rest = data[whole:]
        events = []
        for offset in range(0, whole, _EVENT.size):
            type_, code, value = _EVENT.unpack_from(data, offset)
            events.append((int(type_), int(code), int(value)))
        return events

    def close(self) -> None:
        if self._read_fd >= 0:
            os.close(self._read_fd)
            self._read_fd = -1


class EmulatedKeyboard:
    """A USB keyboard-wedge QR scanner, at the level of its input events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: _PipeSource | None = None
        self.plugged = True
        self.opens = 0  # how many times a driver opened it
        self.grabbed = False  # whether the last opening asked for a grab

    def opener(self, path: str, grab: bool) -> _PipeSource:
        """Open the device as ``HidQrScanner`` does (its ``opener`` argument)."""
        with self._lock:
            if not self.plugged:
                raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
            self._retire()
            self._source = _PipeSource()
            self.opens += 1
            self.grabbed = grab
            return self._source

    def scan(self, code: str, *, enter: int = KEY_ENTER) -> None:
        """Type ``code`` and Enter, with a SYN_REPORT after each key as the kernel does."""
        events: list[tuple[int, int, int]] = []
        for keycode, value in key_events(code, enter=enter):
            events += [(EV_KEY, keycode, value), (EV_SYN, SYN_REPORT, 0)]
        self.send(events)

    def lose_events(self) -> None:
        """Report that the kernel dropped events (its buffer overflowed)."""
        self.send([(EV_SYN, SYN_DROPPED, 0), (EV_SYN, SYN_REPORT, 0)])

    def send(self, events: Iterable[tuple[int, int, int]]) -> None:
        """Deliver raw ``(type, code, value)`` events; lost if nobody has the device open."""
        data = b"".join(_EVENT.pack(*event) for event in events)
        with self._lock:
            if self._source is None or self._source.gone:
                return
            try:
                _write_all(self._source.write_fd, data)
            except BrokenPipeError:  # the driver closed it
                return

    def unplug(self) -> None:
        """Pull the scanner out: the driver's next read fails; reopening fails until plug()."""
        with self._lock:
            self.plugged = False
            if self._source is not None:
                self._source.gone = True
                with contextlib.suppress(BrokenPipeError):  # the driver closed it already
                    _write_all(self._source.write_fd, b"\0")  # wake the driver's poll

    def plug(self) -> None:
        """Plug it back in."""
        with self._lock:
            self.plugged = True

    def close(self) -> None:
        """Release the pipes."""
        with self._lock:
            self._retire()

    def _retire(self) -> None:
        if self._source is not None:
            os.close(self._source.write_fd)
            self._source.write_fd = -1
            self._source = None

    def __enter__(self) -> EmulatedKeyboard:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
