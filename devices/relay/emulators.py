"""Emulators of the barrier relays, speaking the real bytes to the real drivers.

- ``ModbusEmulatorServer``: a pymodbus server (TCP on 127.0.0.1, or RTU on a pseudo-terminal
  behind a ``NullModem``) in a thread of its own running its own event loop; ``stop()``
  closes every connection and joins the thread.
- ``ModbusRelayEmulator``: a relay module with coils and discrete inputs that models one
  barrier: while its coil is pulsed the barrier-closed input drops (after ``travel_s``) and
  it rises again ``hold_s`` after the pulse. ``jammed`` makes the barrier stay put.
  ``pulses`` lists every (coil, on_at, off_at), times from ``time.monotonic()``.
- ``SerialRelayBoardEmulator`` (defined beside its driver in ``devices.relay.serial_board``,
  re-exported here): a pseudo-terminal that takes 4-byte ``A0 ch state sum`` commands and,
  like the real boards, never answers; ``unplug()`` makes the port vanish.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from devices.relay.serial_board import BoardCommand, SerialRelayBoardEmulator

__all__ = [
    "BoardCommand",
    "ModbusEmulatorServer",
    "ModbusRelayEmulator",
    "NullModem",
    "Pulse",
    "PulseLog",
    "SerialRelayBoardEmulator",
    "Transport",
    "bit_blocks",
    "raw_pty",
    "set_bit",
]

logger = logging.getLogger(__name__)

Transport = Literal["tcp", "rtu"]
SimBlocks = tuple[list[SimData], list[SimData], list[SimData], list[SimData]]


def raw_pty() -> tuple[int, int, str]:
    """A new pseudo-terminal in raw mode: (master fd, slave fd, slave path)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


class NullModem:
    """Two pseudo-terminals joined back to back, like a null-modem cable between two ports."""

    def __init__(self) -> None:
        self._a_master, self._a_slave, self.server_port = raw_pty()
        self._b_master, self._b_slave, self.client_port = raw_pty()
        self._wake_r, self._wake_w = os.pipe()
        # Holding the slave ends open keeps the masters readable while a port is reopened.
        self._thread = threading.Thread(target=self._pump, name="null-modem", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        peer = {self._a_master: self._b_master, self._b_master: self._a_master}
        while True:
            ready, _, _ = select.select([self._a_master, self._b_master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            for source in ready:
                try:
                    os.write(peer[source], os.read(source, 4096))
                except OSError:
                    continue

    def close(self) -> None:
        """Stop the pump and free both ports."""
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for fd in (self._a_master, self._a_slave, self._b_master, self._b_slave):
            os.close(fd)
        os.close(self._wake_r)
        os.close(self._wake_w)


class ModbusEmulatorServer:
    """A pymodbus server for one emulated device, in its own thread and event loop."""

    def __init__(
        self,
        device: Callable[[], SimDevice],
        *,
        transport: Transport = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "modbus-emulator",
    ) -> None:
        self._device = device
        self.transport = transport
        self.host = host
        self._port = port
        self._name = name
        self._null_modem: NullModem | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The TCP port (a free one chosen at the first start, kept across restarts)."""
        return self._port

    @property
    def serial_port(self) -> str:
        """The pseudo-terminal a client opens to speak RTU to this server."""
        if self._null_modem is None:
            raise RuntimeError("not an RTU emulator, or not started")
        return self._null_modem.client_port

    def start(self) -> None:
        """Start serving; raises ``OSError`` if the server cannot listen."""
        if self._thread is not None:
            return
        if self.transport == "rtu" and self._null_modem is None:
            self._null_modem = NullModem()
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        if self._error is not None or self._loop is None:
            self._thread.join(timeout=5)
            self._thread = None
            raise OSError(f"{self._name} could not start: {self._error}")

    def stop(self) -> None:
        """Close every connection and the listener, and join the thread."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        self._thread = self._loop = self._stop = None

    def close(self) -> None:
        """Stop, and free the pseudo-terminals of an RTU emulator."""
        self.stop()
        if self._null_modem is not None:
            self._null_modem.close()
            self._null_modem = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        server: ModbusTcpServer | ModbusSerialServer
        if self.transport == "tcp":
            server = ModbusTcpServer(self._device(), address=(self.host, self._port))
        else:
            assert self._null_modem is not None
            server = ModbusSerialServer(self._device(), port=self._null_modem.server_port)
        await server.serve_forever(background=True)
        try:
            sockets = getattr(server.transport, "sockets", None)
            if sockets:
                self._port = int(sockets[0].getsockname()[1])
            self._stop = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stop.wait()
        finally:
            await server.shutdown()  # type: ignore[no-untyped-call]
            await asyncio.sleep(0.01)  # let the closed transports call connection_lost


def bit_blocks(*, coils: int, inputs: int, registers: int) -> SimBlocks:
    """Separate coil, discrete-input, holding- and input-register blocks from address 0."""
    return (
        [SimData(0, count=coils, values=False, datatype=DataType.BITS)],
        [SimData(0, count=inputs, values=False, datatype=DataType.BITS)],
        [SimData(0, count=registers, values=0, datatype=DataType.REGISTERS)],
        [SimData(0, count=registers, values=0, datatype=DataType.REGISTERS)],
    )


def set_bit(registers: list[int], start: int, bit: int, value: bool) -> None:
    """Set one bit in pymodbus' bit-packed block (16 bits a register, bit 0 first)."""
    index, mask = bit // 16 - start, 1 << (bit % 16)
    if 0 <= index < len(registers):
        registers[index] = registers[index] | mask if value else registers[index] & ~mask


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


class ModbusRelayEmulator:
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
        self.unit_id = unit_id
        self.barrier_coil = barrier_coil
        self.closed_input = closed_input
        self.travel_s = travel_s
        self.hold_s = hold_s
        self.jammed = False  # the barrier does not move whatever the relay does
        self._log = PulseLog()
        self.server = ModbusEmulatorServer(
            self._device, transport=transport, port=port, name="modbus-relay-emulator"
        )

    def _device(self) -> SimDevice:
        blocks = bit_blocks(coils=self.COILS, inputs=self.INPUTS, registers=1)
        return SimDevice(self.unit_id, simdata=blocks, action=self._action)

    async def _action(
        self,
        function_code: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> None:
        now = time.monotonic()
        if function_code in (5, 15) and values is not None:
            for offset, value in enumerate(values):
                coil = address + offset
                self._log.switch(coil, bool(value), now, moved_barrier=not self.jammed)
        elif function_code == 2:
            set_bit(registers, start, self.closed_input, self.barrier_closed(now))

    def start(self) -> None:
        """Power the module on: every coil off."""
        self.server.start()

    def stop(self) -> None:
        """Power the module off: every connection drops, every coil falls off."""
        self.server.stop()
        self._log.all_off(time.monotonic())

    def close(self) -> None:
        """Stop and free the pseudo-terminals (RTU)."""
        self.stop()
        self.server.close()

    @property
    def host(self) -> str:
        """Where the TCP server listens."""
        return self.server.host

    @property
    def port(self) -> int:
        """The TCP port."""
        return self.server.port

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
