"""Emulators of the barrier relays, speaking the real bytes to the real drivers.

- ``ModbusRelayEmulator``: a relay module with coils and discrete inputs, served by a
  ``devices.modbus.server.ModbusEmulatorServer``, that models one barrier: while its coil
  is pulsed the barrier-closed input drops (after ``travel_s``) and it rises again
  ``hold_s`` after the pulse. ``jammed`` makes the barrier stay put. ``pulses`` lists every
  (coil, on_at, off_at), times from ``time.monotonic()``.
- ``SerialRelayBoardEmulator``: a pseudo-terminal that takes 4-byte ``A0 ch state sum``
  commands and, like the real boards, never answers; ``unplug()`` makes the port vanish.
"""

from __future__ import annotations

import os
import select
import threading
import time
from dataclasses import dataclass

from devices.modbus.config import Transport
from devices.modbus.server import (
    ModbusDeviceEmulator,
    ModbusRequest,
    SimBlocks,
    bit_blocks,
    set_bit,
)
from devices.pseudo_tty import raw_pty


@dataclass(frozen=True)
class Pulse:
    """One energising of a coil or relay channel; ``off_at`` None while it is still on."""

    coil: int
    on_at: float
    off_at: float | None
    moved_barrier: bool = True

    @property
    def duration(self) -> float | None:
        """Seconds the coil was on."""
        return None if self.off_at is None else self.off_at - self.on_at


class PulseLog:
    """Turns on/off commands into pulses; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pulses: list[Pulse] = []
        self._on: dict[int, int] = {}  # coil -> index of its open pulse

    def switch(self, coil: int, on: bool, at: float, *, moved_barrier: bool = True) -> None:
        """Record a coil switched on or off at ``at`` (repeating its state changes nothing)."""
        with self._lock:
            if on and coil not in self._on:
                self._on[coil] = len(self._pulses)
                self._pulses.append(Pulse(coil, at, None, moved_barrier))
            elif not on and coil in self._on:
                index = self._on.pop(coil)
                pulse = self._pulses[index]
                self._pulses[index] = Pulse(coil, pulse.on_at, at, pulse.moved_barrier)

    def is_on(self, coil: int) -> bool:
        """Whether the coil is on now."""
        with self._lock:
            return coil in self._on

    def all_off(self, at: float) -> None:
        """Every coil falls off (power loss)."""
        with self._lock:
            coils = list(self._on)
        for coil in coils:
            self.switch(coil, False, at)

    def pulses(self) -> list[Pulse]:
        """Every pulse so far, oldest first."""
        with self._lock:
            return list(self._pulses)


class ModbusRelayEmulator(ModbusDeviceEmulator):
    """A Modbus relay module wired to a barrier with a barrier-closed contact."""

    COILS = 16
    INPUTS = 16

    def __init__(
        self,
        *,
        unit_id: int = 1,
        barrier_coil: int = 0,
        closed_input: int = 0,
        travel_s: float = 0.05,
        hold_s: float = 0.3,
        transport: Transport = "tcp",
        port: int = 0,
    ) -> None:
        super().__init__(
            unit_id=unit_id, transport=transport, port=port, name="modbus-relay-emulator"
        )
        self.barrier_coil = barrier_coil
        self.closed_input = closed_input
        self.travel_s = travel_s
        self.hold_s = hold_s
        self.jammed = False  # the barrier does not move whatever the relay does
        self._log = PulseLog()

    def _blocks(self) -> SimBlocks:
        return bit_blocks(coils=self.COILS, inputs=self.INPUTS, registers=1)

    def _answer(self, request: ModbusRequest) -> None:
        now = time.monotonic()
        if request.function_code in (5, 15) and request.values is not None:
            for offset, value in enumerate(request.values):
                coil = request.address + offset
                self._log.switch(coil, bool(value), now, moved_barrier=not self.jammed)
        elif request.function_code == 2:
            set_bit(request.registers, request.start, self.closed_input, self.barrier_closed(now))

    def start(self) -> None:
        """Power the module on: every coil off."""
        super().start()

    def stop(self) -> None:
        """Power the module off: every connection drops, every coil falls off."""
        super().stop()
        self._log.all_off(time.monotonic())

    @property
    def pulses(self) -> list[Pulse]:
        """Every coil energising so far, oldest first."""
        return self._log.pulses()

    def coil(self, coil: int) -> bool:
        """Whether a coil is energised now."""
        return self._log.is_on(coil)

    def _open_intervals(self) -> list[tuple[float, float]]:
        return [
            (p.on_at + self.travel_s, (p.off_at or float("inf")) + self.hold_s)
            for p in self._log.pulses()
            if p.coil == self.barrier_coil and p.moved_barrier
        ]

    def barrier_closed(self, at: float | None = None) -> bool:
        """The barrier-closed contact as the model has it at ``at`` (default now)."""
        now = time.monotonic() if at is None else at
        return not any(start <= now < end for start, end in self._open_intervals())


@dataclass(frozen=True)
class BoardCommand:
    """One well-formed command a serial relay board received."""

    channel: int
    on: bool
    at: float


class SerialRelayBoardEmulator:
    """A serial relay board (``A0 ch state sum``, no answers) on a pseudo-terminal."""

    def __init__(self) -> None:
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
