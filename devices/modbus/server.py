"""A pymodbus server for one emulated device, and the base of the emulated devices.

- ``ModbusEmulatorServer``: a pymodbus server (TCP on 127.0.0.1, or RTU on a pseudo-terminal
  behind a ``NullModem``) in a thread of its own running its own event loop; ``stop()``
  closes every connection and joins the thread.
- ``ModbusDeviceEmulator``: a device served by one: a subclass gives its data blocks
  (``bit_blocks``) and answers each ``ModbusRequest`` (``set_bit`` for a discrete input).
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from devices.modbus.config import Transport
from devices.pseudo_tty import NullModem

SimBlocks = tuple[list[SimData], list[SimData], list[SimData], list[SimData]]


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
class ModbusRequest:
    """One request as an emulated device sees it (the arguments of pymodbus' simulator action).

    ``registers`` is the block pymodbus answers from, starting at address ``start``: the
    device may change it. ``values`` is what a write request writes, None for a read.
    """

    function_code: int
    start: int
    address: int
    count: int
    registers: list[int]
    values: list[int] | list[bool] | None


class ModbusDeviceEmulator(ABC):
    """A Modbus device behind its own ``ModbusEmulatorServer`` (``server``)."""

    def __init__(self, *, unit_id: int, transport: Transport, port: int, name: str) -> None:
        self.unit_id = unit_id
        self.server = ModbusEmulatorServer(self._device, transport=transport, port=port, name=name)

    @abstractmethod
    def _blocks(self) -> SimBlocks:
        """The device's coils, discrete inputs, holding and input registers."""

    @abstractmethod
    def _answer(self, request: ModbusRequest) -> None:
        """Look at (and change) what a request reads or writes."""

    def _device(self) -> SimDevice:
        return SimDevice(self.unit_id, simdata=self._blocks(), action=self._action)

    async def _action(
        self,
        function_code: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> None:
        self._answer(ModbusRequest(function_code, start, address, count, registers, values))

    def start(self) -> None:
        """Start serving; ``OSError`` if the server cannot listen."""
        self.server.start()

    def stop(self) -> None:
        """Stop serving: every connection drops (what the device holds is kept for a restart)."""
        self.server.stop()

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
        """The TCP port (a free one chosen at the first start, kept across restarts)."""
        return self.server.port
