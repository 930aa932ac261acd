"""A barrier relay on the common serial relay boards (``A0 ch state sum``).

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
import time
from pathlib import Path
from typing import Any

import serial

from devices.base import DeviceDriver
from devices.relay.config import SerialRelayConfig
from gate.domain.device_ports import DeviceHealth
from gate.domain.errors import DeviceIOError, DeviceTimeout
from gate.domain.model import Direction

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
        # Connect and send "off": de-energised from the start. If the board is not plugged
        # in yet, open() retries after the backoff. (No other thread sees us yet.)
        with contextlib.suppress(DeviceIOError):
            self._reconnect()

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
        with self._io_lock:
            self._reconnect()
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
        with self._io_lock:
            try:
                self._reconnect()
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
        with self._io_lock:
            if self._port is not None:
                try:
                    self._send(self._off)
                except DeviceIOError as exc:
                    logger.error("%s: could not switch relay off on close: %s", self.name, exc)
            self._release()
            self._mark_closed()

    def _connected(self) -> bool:
        return self._port is not None

    def _connect_internal(self) -> None:
        try:
            self._port = serial.Serial(
                self._port_name,
                self._baud,
                timeout=0,
                write_timeout=self._write_timeout,
                exclusive=True,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceIOError(f"cannot open {self._port_name}: {exc}", device=self.name) from exc
        self._send(self._off)
        self._seen()

    def _disconnect_internal(self) -> None:
        self._release()

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
