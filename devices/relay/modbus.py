"""A barrier relay on a Modbus relay module (TCP or RTU), and its emulated twin.

``open()`` energises the configured coil, holds it for ``pulse_ms`` and switches it off
(plain write-single-coil on/off, which every module supports; the module's own timed
"flash" modes differ by vendor). With ``closed_input`` set, the barrier-closed contact is
polled while the coil is on and up to ``confirm_s`` after: if it never drops, the barrier
did not open, health turns ``degraded`` and ``open()`` raises ``DeviceIOError`` so the
passage is recorded as "barrier not opened" and the guard lets the person through by hand.

Safety (see ``devices.relay``): the relay contact sits in parallel with the guard's
push-button on the barrier controller's open input; the controller's own fail-safe decides
what happens on power loss. This driver leaves the coil off at start, on close and after
every error (it reconnects once to switch it off), so a crashed service leaves the barrier
in its wired fail-safe state. Free exit is the supervisor's (``gate.app.lanes``).

pymodbus and OS errors are mapped here, once, into ``DeviceIOError`` / ``DeviceTimeout``;
a lost module is retried with the backoff of ``DeviceDriver``. Calls block (a pulse takes
``pulse_ms``): the pipeline calls ``open()`` off the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import serial
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ModbusException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from devices.base import DeviceDriver
from devices.modbus.config import ModbusLinkConfig
from devices.relay.config import ModbusEmulatedConfig, ModbusRelayConfig
from gate.domain.device_ports import DeviceHealth, DeviceState
from gate.domain.errors import ConfigError, DeviceIOError, DeviceTimeout, DriverNotAvailable
from gate.domain.model import Direction

if TYPE_CHECKING:
    from devices.relay.emulators import ModbusRelayEmulator

logger = logging.getLogger(__name__)

Client = ModbusTcpClient | ModbusSerialClient


@dataclass(frozen=True)
class ModbusEndpoint:
    """Where a Modbus device answers: TCP host and port, or an RTU serial port."""

    transport: Literal["tcp", "rtu"] = "tcp"
    host: str = "127.0.0.1"
    port: int = 502
    serial_port: str | None = None
    baud: int = 9600
    unit_id: int = 1
    timeout: float = 1.0

    def __str__(self) -> str:
        where = f"{self.host}:{self.port}" if self.transport == "tcp" else self.serial_port
        return f"{self.transport}://{where} unit {self.unit_id}"


def endpoint_from_config(config: ModbusLinkConfig, *, timeout: float) -> ModbusEndpoint:
    """The endpoint a relay or thermometer config names; ``ConfigError`` if RTU has no port."""
    if config.transport == "rtu" and not config.serial_port:
        raise ConfigError("transport 'rtu' needs a serial_port", key="serial_port")
    return ModbusEndpoint(
        transport=config.transport,
        host=config.host,
        port=config.port,
        serial_port=config.serial_port,
        baud=config.baud,
        unit_id=config.unit_id,
        timeout=timeout,
    )


class ModbusLink:
    """One synchronous pymodbus client whose errors come out as ``gate.domain.errors``."""

    def __init__(self, endpoint: ModbusEndpoint, *, device: str) -> None:
        self.endpoint = endpoint
        self._device = device
        self._client: Client | None = None

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._client is not None

    def set_timeout(self, timeout: float) -> None:
        """Use ``timeout`` from the next connection on (reconnects if it changed)."""
        if timeout != self.endpoint.timeout:
            self.close()
            self.endpoint = replace(self.endpoint, timeout=timeout)

    def connect(self) -> None:
        """Open the connection; ``DeviceIOError`` if the device cannot be reached."""
        if self._client is not None:
            return
        end = self.endpoint
        # One attempt per request: the caller decides about retries (and its backoff).
        client: Client
        if end.transport == "tcp":
            client = ModbusTcpClient(end.host, port=end.port, timeout=end.timeout, retries=0)
        else:
            assert end.serial_port is not None
            client = ModbusSerialClient(
                end.serial_port, baudrate=end.baud, timeout=end.timeout, retries=0
            )
        try:
            ok = client.connect()
        except (ModbusException, OSError) as exc:
            client.close()  # type: ignore[no-untyped-call]
            raise DeviceIOError(f"cannot connect to {end}: {exc}", device=self._device) from exc
        if not ok:
            client.close()  # type: ignore[no-untyped-call]
            raise DeviceIOError(f"cannot connect to {end}", device=self._device)
        self._client = client

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()  # type: ignore[no-untyped-call]

    def _request(self, what: str, call: Callable[[Client], ModbusPDU]) -> ModbusPDU:
        self.connect()
        assert self._client is not None
        try:
            response = call(self._client)
        except ModbusIOException as exc:  # pymodbus' "no response received"
            self.close()
            message = f"{what}: no answer from {self.endpoint}"
            raise DeviceTimeout(message, device=self._device) from exc
        except (ModbusException, serial.SerialException, OSError) as exc:
            self.close()
            raise DeviceIOError(f"{what}: {exc}", device=self._device) from exc
        if response.isError():
            code = getattr(response, "exception_code", "?")
            raise DeviceIOError(
                f"{what}: {self.endpoint} answered Modbus exception {code}", device=self._device
            )
        return response

    def write_coil(self, address: int, value: bool) -> None:
        """Switch one coil; the module's echo must repeat the value."""
        unit = self.endpoint.unit_id
        what = f"write coil {address}={'on' if value else 'off'}"
        response = self._request(what, lambda c: c.write_coil(address, value, device_id=unit))
        if response.bits[:1] != [value]:
            raise DeviceIOError(f"{what}: module echoed {response.bits[:1]}", device=self._device)

    def read_coil(self, address: int) -> bool:
        """One coil's state."""
        unit = self.endpoint.unit_id
        what = f"read coil {address}"
        response = self._request(what, lambda c: c.read_coils(address, count=1, device_id=unit))
        return self._first_bit(what, response)

    def read_input(self, address: int) -> bool:
        """One discrete input's state."""
        unit = self.endpoint.unit_id
        what = f"read input {address}"
        response = self._request(
            what, lambda c: c.read_discrete_inputs(address, count=1, device_id=unit)
        )
        return self._first_bit(what, response)

    def _first_bit(self, what: str, response: ModbusPDU) -> bool:
        if not response.bits:
            raise DeviceIOError(f"{what}: answer without bits", device=self._device)
        return bool(response.bits[0])

    def read_register(self, address: int) -> int:
        """One holding register (0..65535)."""
        unit = self.endpoint.unit_id
        response = self._request(
            f"read register {address}",
            lambda c: c.read_holding_registers(address, count=1, device_id=unit),
        )
        if len(response.registers) != 1:
            raise DeviceIOError(f"register {address}: short answer", device=self._device)
        return int(response.registers[0])


class ModbusRelay(DeviceDriver):
    """``gate.domain.device_ports.BarrierRelay`` on a coil of a Modbus relay module."""

    POLL_S = 0.02  # how often the closed contact is read while waiting for it to drop
    CONFIRM_S = 1.0  # how long after the coil went on the contact may take to drop

    def __init__(
        self,
        name: str,
        *,
        link: ModbusLink,
        coil: int = 0,
        pulse_ms: int = 500,
        closed_input: int | None = None,
        confirm_s: float | None = None,
    ) -> None:
        super().__init__(name)
        self._link = link
        self._coil = coil
        self._pulse_s = pulse_ms / 1000
        self._closed_input = closed_input
        self._confirm_s = max(self.CONFIRM_S if confirm_s is None else confirm_s, self._pulse_s)
        self._lock = threading.Lock()
        # Connect and switch the coil off: de-energised from the start. If the module is not
        # there yet, open() retries after the backoff. (No other thread sees us yet.)
        with contextlib.suppress(DeviceIOError):
            self._connect()

    @classmethod
    def from_config(cls, config: ModbusRelayConfig, *, name: str, data_dir: Path) -> ModbusRelay:
        """Build from a ``modbus-relay`` config."""
        endpoint = endpoint_from_config(config, timeout=config.timeout)
        return cls(
            name,
            link=ModbusLink(endpoint, device=name),
            coil=config.coil,
            pulse_ms=config.pulse_ms,
            closed_input=config.closed_input,
        )

    def open(self, lane: str, direction: Direction) -> None:
        """Pulse the coil; ``DeviceIOError`` if the module fails or the barrier did not open."""
        with self._lock:
            self._connect()
            on_at = time.monotonic()  # taken before the request, like the off's deadline
            try:
                self._link.write_coil(self._coil, True)
                opened = self._watch(on_at + self._pulse_s, until_open=False)
                self._link.write_coil(self._coil, False)
            except DeviceIOError as exc:
                self._switch_off_after_error()
                self._lost(str(exc))
                raise
            try:
                if not opened:
                    opened = self._watch(on_at + self._confirm_s, until_open=True)
            except DeviceIOError as exc:
                self._link.close()  # the coil is already off
                self._lost(str(exc))
                raise
            if not opened:
                detail = f"barrier did not open: closed contact {self._closed_input} never dropped"
                self._degraded(detail)
                raise DeviceIOError(detail, device=self.name)
            self._seen()
        logger.info("%s: pulsed coil %d for %s %s", self.name, self._coil, lane, direction.value)

    def probe(self) -> DeviceHealth:
        """Check the link (reconnecting after the backoff) and that the coil is off."""
        with self._lock:
            try:
                self._connect()
            except DeviceIOError:
                return self.health()
            try:
                if self._link.read_coil(self._coil):
                    logger.warning("%s: coil %d found on outside a pulse", self.name, self._coil)
                    self._link.write_coil(self._coil, False)
            except DeviceIOError as exc:
                self._switch_off_after_error()
                self._lost(str(exc))
                return self.health()
            health = self.health()
            if health.state is DeviceState.DEGRADED:
                self._degraded(health.detail)  # the barrier's fault stands; the link answered
            else:
                self._seen()
            return self.health()

    def close(self) -> None:
        """Switch the coil off and release the connection."""
        with self._lock:
            if self._link.connected:
                try:
                    self._link.write_coil(self._coil, False)
                except DeviceIOError as exc:
                    logger.error("%s: could not switch coil off on close: %s", self.name, exc)
            self._link.close()
            self._mark_closed()

    def _connect(self) -> None:
        if self._link.connected:
            return
        if not self._may_retry():
            raise DeviceIOError(
                f"offline, next attempt in {self._retry_delay():.1f} s", device=self.name
            )
        try:
            self._link.connect()
            self._link.write_coil(self._coil, False)
        except DeviceIOError as exc:
            self._link.close()
            self._lost(str(exc))
            raise
        self._seen()

    def _watch(self, deadline: float, *, until_open: bool) -> bool:
        """Wait until ``deadline``, reading the closed contact until it drops.

        A read that would run past the deadline is not started, so the coil goes off on
        time even on a slow RTU line.
        """
        opened = self._closed_input is None  # nothing to confirm with
        read_s = 0.0  # how long the last read took
        while True:
            now = time.monotonic()
            if not opened and deadline - now > read_s:
                assert self._closed_input is not None
                opened = not self._link.read_input(self._closed_input)
                read_s, now = time.monotonic() - now, time.monotonic()
            if now >= deadline or (opened and until_open):
                return opened
            wait = deadline - now if opened else min(self.POLL_S, deadline - now)
            time.sleep(max(0.0, wait))

    def _switch_off_after_error(self) -> None:
        """Reconnect once, ignoring the backoff, to leave the coil off."""
        self._link.close()
        try:
            self._link.connect()
            self._link.write_coil(self._coil, False)
        except DeviceIOError as exc:
            logger.error("%s: could not confirm coil %d is off: %s", self.name, self._coil, exc)
        finally:
            self._link.close()


class EmulatedModbusRelay:
    """The real ``ModbusRelay`` talking TCP to an in-process emulated relay module.

    ``emulator`` is the module: its ``pulses`` and ``barrier_closed()`` show what happened.
    """

    def __init__(
        self,
        name: str,
        *,
        coil: int = 0,
        pulse_ms: int = 500,
        emulator: ModbusRelayEmulator | None = None,
    ) -> None:
        from devices.relay.emulators import ModbusRelayEmulator

        self.name = name
        self.emulator = emulator or ModbusRelayEmulator(barrier_coil=coil)
        try:
            self.emulator.start()
        except OSError as exc:
            raise DriverNotAvailable(f"emulated relay module cannot start: {exc}") from exc
        endpoint = ModbusEndpoint(host=self.emulator.host, port=self.emulator.port)
        self.relay = ModbusRelay(
            name,
            link=ModbusLink(endpoint, device=name),
            coil=coil,
            pulse_ms=pulse_ms,
            closed_input=self.emulator.closed_input,
        )

    @classmethod
    def from_config(
        cls, config: ModbusEmulatedConfig, *, name: str, data_dir: Path
    ) -> EmulatedModbusRelay:
        """Build from a ``modbus-emulated`` config: start the emulator on a free port."""
        return cls(name, coil=config.coil, pulse_ms=config.pulse_ms)

    def open(self, lane: str, direction: Direction) -> None:
        """Pulse the emulated module's coil."""
        self.relay.open(lane, direction)

    def health(self) -> DeviceHealth:
        """The driver's view of the emulated module."""
        return self.relay.health()

    def probe(self) -> DeviceHealth:
        """See ``ModbusRelay.probe``."""
        return self.relay.probe()

    def close(self) -> None:
        """Close the driver, then stop the emulator."""
        try:
            self.relay.close()
        finally:
            self.emulator.close()
