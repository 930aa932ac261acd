"""A barrier relay on the common serial relay boards (``A0 ch state sum``), and their emulator.

The boards (LC-US and look-alikes: a CH340 USB-serial chip and a microcontroller, 9600 8N1)
take 4-byte commands: ``0xA0``, the channel (1-based), the state (``01`` on, ``00`` off) and
the low byte of the sum of the three, e.g. ``A0 01 01 A2`` / ``A0 01 00 A1`` for channel 1.
They never answer, so the driver cannot know the relay moved: health ``ok`` means the port
took the bytes. An unplugged board (the port fails or vanishes) is ``offline``, retried with
the backoff of ``DeviceDriver``.

Safety (see ``devices.relay``): the relay contact sits in parallel with the guard's
push-button on the barrier controller's open input; the controller's own fail-safe decides
what happens on power loss. This driver sends "off" when it connects, after every pulse, on
close and after an error, so a stopped service leaves the barrier in its wired fail-safe
state. ``serial.SerialException`` and ``OSError`` are mapped here into ``DeviceIOError``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import serial

from devices.base import DeviceDriver
from devices.relay.config import SerialRelayConfig
from gate.domain.device_ports import DeviceHealth
from gate.domain.errors import DeviceIOError, DeviceTimeout
from gate.domain.model import Direction

if TYPE_CHECKING:
    from devices.relay.emulators import Pulse

logger = logging.getLogger(__name__)

START = 0xA0


def command(channel: int, on: bool) -> bytes:
    """The 4-byte command switching ``channel`` (1..255) on or off."""
    if not 1 <= channel <= 0xFF:
        raise ValueError(f"channel {channel} is not 1..255")
    state = 1 if on else 0
    return bytes((START, channel, state, (START + channel + state) & 0xFF))


class SerialRelayBoard(DeviceDriver):
    """``gate.domain.device_ports.BarrierRelay`` on one channel of a serial relay board."""

    def __init__(
        self,
        name: str,
        *,
        port: str,
        baud: int = 9600,
        channel: int = 1,
        pulse_ms: int = 500,
        write_timeout: float = 1.0,
    ) -> None:
        super().__init__(name)
        self._port_name = port
        self._baud = baud
        self._channel = channel
        self._on, self._off = command(channel, True), command(channel, False)
        self._pulse_s = pulse_ms / 1000
        self._write_timeout = write_timeout
        self._port: Any = None
        self._lock = threading.Lock()
        # Connect and send "off": de-energised from the start. If the board is not plugged
        # in yet, open() retries after the backoff. (No other thread sees us yet.)
        with contextlib.suppress(DeviceIOError):
            self._connect()

    @classmethod
    def from_config(
        cls, config: SerialRelayConfig, *, name: str, data_dir: Path
    ) -> SerialRelayBoard:
        """Build from a ``serial-relay`` config."""
        return cls(
            name,
            port=config.port,
            baud=config.baud,
            channel=config.channel,
            pulse_ms=config.pulse_ms,
        )

    def open(self, lane: str, direction: Direction) -> None:
        """Switch the channel on for ``pulse_ms``, then off; ``DeviceIOError`` if the port fails."""
        with self._lock:
            self._connect()
            try:
                self._send(self._on)
                time.sleep(self._pulse_s)
                self._send(self._off)
            except DeviceIOError as exc:
                self._send_off_after_error()
                self._lost(str(exc))
                raise
            self._seen()
        logger.info(
            "%s: pulsed channel %d for %s %s", self.name, self._channel, lane, direction.value
        )

    def probe(self) -> DeviceHealth:
        """Reconnect after the backoff and repeat "off" (the boards cannot be asked)."""
        with self._lock:
            try:
                self._connect()
                self._send(self._off)
            except DeviceIOError as exc:
                if self._port is not None:
                    self._release()
                    self._lost(str(exc))
                return self.health()
            self._seen()
            return self.health()

    def close(self) -> None:
        """Send "off" and release the port."""
        with self._lock:
            if self._port is not None:
                try:
                    self._send(self._off)
                except DeviceIOError as exc:
                    logger.error("%s: could not switch relay off on close: %s", self.name, exc)
            self._release()
            self._mark_closed()

    def _connect(self) -> None:
        if self._port is not None:
            return
        if not self._may_retry():
            raise DeviceIOError(
                f"offline, next attempt in {self._retry_delay():.1f} s", device=self.name
            )
        try:
            self._port = serial.Serial(
                self._port_name,
                self._baud,
                timeout=0,
                write_timeout=self._write_timeout,
                exclusive=True,
            )
            self._send(self._off)
        except (serial.SerialException, OSError, ValueError) as exc:
            self._release()
            self._lost(f"cannot open {self._port_name}: {exc}")
            raise DeviceIOError(f"cannot open {self._port_name}: {exc}", device=self.name) from exc
        except DeviceIOError as exc:
            self._release()
            self._lost(str(exc))
            raise
        self._seen()

    def _send(self, frame: bytes) -> None:
        try:
            self._port.write(frame)
            self._port.flush()  # on the wire before the pulse is timed
        except serial.SerialTimeoutException as exc:
            raise DeviceTimeout(f"write to {self._port_name} timed out", device=self.name) from exc
        except (serial.SerialException, OSError) as exc:
            raise DeviceIOError(f"write to {self._port_name}: {exc}", device=self.name) from exc

    def _send_off_after_error(self) -> None:
        """Reopen the port once, ignoring the backoff, to leave the relay off."""
        self._release()
        try:
            port = serial.Serial(self._port_name, self._baud, write_timeout=self._write_timeout)
            try:
                port.write(self._off)
                port.flush()
            finally:
                port.close()
        except (serial.SerialException, OSError, ValueError) as exc:
            logger.error(
                "%s: could not confirm channel %d is off: %s", self.name, self._channel, exc
            )

    def _release(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as exc:
                logger.debug("%s: closing %s: %s", self.name, self._port_name, exc)


@dataclass(frozen=True)
class BoardCommand:
    """One well-formed command a serial relay board received."""

    channel: int
    on: bool
    at: float


class SerialRelayBoardEmulator:
    """A serial relay board (``A0 ch state sum``, no answers) on a pseudo-terminal."""

    def __init__(self) -> None:
        from devices.relay.emulators import PulseLog

        self._lock = threading.Condition()
        self._received = bytearray()
        self._pending = bytearray()
        self._commands: list[BoardCommand] = []
        self._log = PulseLog()
        self.bad_frames = 0
        self._fds: tuple[int, int, int, int] | None = None
        self._thread: threading.Thread | None = None
        self.port = ""

    def start(self) -> None:
        """Plug the board in: its port appears."""
        from devices.relay.emulators import raw_pty

        master, slave, self.port = raw_pty()
        wake_r, wake_w = os.pipe()
        self._fds = (master, slave, wake_r, wake_w)
        self._thread = threading.Thread(target=self._serve, name="relay-board-emulator")
        self._thread.daemon = True
        self._thread.start()

    def unplug(self) -> None:
        """Pull the board out: the port vanishes and the driver's writes fail."""
        if self._fds is None or self._thread is None:
            return
        os.write(self._fds[3], b"x")
        self._thread.join(timeout=5)
        for fd in self._fds:
            os.close(fd)
        self._fds, self._thread = None, None

    stop = unplug

    def _serve(self) -> None:
        assert self._fds is not None
        master, _slave, wake_r, _wake_w = self._fds
        while True:
            ready, _, _ = select.select([master, wake_r], [], [])
            if wake_r in ready:
                return
            try:
                data = os.read(master, 1024)
            except OSError:
                continue
            self._take(data, time.monotonic())

    def _take(self, data: bytes, at: float) -> None:
        with self._lock:
            self._received += data
            self._pending += data
            while len(self._pending) >= 4:
                start, channel, state, checksum = self._pending[:4]
                if start != 0xA0 or state > 1 or checksum != (start + channel + state) & 0xFF:
                    self.bad_frames += 1
                    del self._pending[:1]  # resynchronise on the next 0xA0
                    continue
                del self._pending[:4]
                self._commands.append(BoardCommand(channel, state == 1, at))
                self._log.switch(channel, state == 1, at)
            self._lock.notify_all()

    @property
    def received(self) -> bytes:
        """Every byte the board received, in order."""
        with self._lock:
            return bytes(self._received)

    @property
    def commands(self) -> list[BoardCommand]:
        """Every well-formed command, in order."""
        with self._lock:
            return list(self._commands)

    @property
    def pulses(self) -> list[Pulse]:
        """Every channel energising, oldest first (``coil`` is the channel)."""
        return self._log.pulses()

    def relay(self, channel: int) -> bool:
        """Whether a channel's relay is energised now."""
        return self._log.is_on(channel)

    def wait_for(self, count: int, timeout: float = 2.0) -> list[BoardCommand]:
        """The commands once there are at least ``count`` (or whatever came in ``timeout``)."""
        with self._lock:
            self._lock.wait_for(lambda: len(self._commands) >= count, timeout=timeout)
            return list(self._commands)
