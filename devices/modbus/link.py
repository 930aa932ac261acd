"""``ModbusLink``: one synchronous pymodbus client, its errors mapped into ``gate.domain.errors``.

The relay and the thermometer drivers talk to their device through it. Each request is
one attempt (``retries=0``): the driver decides about retrying, with the backoff of
``DeviceDriver``. pymodbus, pyserial and OS errors are mapped here, once: "no response"
becomes ``DeviceTimeout``, anything else ``DeviceIOError``; a Modbus exception answer is a
``DeviceIOError`` naming its code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import serial
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ModbusException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from devices.modbus.config import ModbusLinkConfig, Transport
from gate.domain.errors import ConfigError, DeviceIOError, DeviceTimeout

Client = ModbusTcpClient | ModbusSerialClient


@dataclass(frozen=True)
class ModbusEndpoint:
    """Where a Modbus device answers: TCP host and port, or an RTU serial port."""

    transport: Transport = "tcp"
    host: str = "127.0.0.1"
    port: int = 502
    serial_port: str | None = None
    baud: int = 9600
    unit_id: int = 1
    timeout: float = 1.0

    def __str__(self) -> str:
        where = f"{self.host}:{self.port}" if self.transport == "tcp" else self.serial_port
        return f"{self.transport}://{where} unit {self.unit_id}"


class ModbusLink:
    """One synchronous pymodbus client whose errors come out as ``gate.domain.errors``."""

    def __init__(self, endpoint: ModbusEndpoint, *, device: str) -> None:
        self.endpoint = endpoint
        self._device = device
        self._client: Client | None = None

    @classmethod
    def from_config(cls, config: ModbusLinkConfig, *, device: str) -> ModbusLink:
        """The link a relay or thermometer config names; ``ConfigError`` if RTU has no port."""
        if config.transport == "rtu" and not config.serial_port:
            raise ConfigError("transport 'rtu' needs a serial_port", key="serial_port")
        endpoint = ModbusEndpoint(
            transport=config.transport,
            host=config.host,
            port=config.port,
            serial_port=config.serial_port,
            baud=config.baud,
            unit_id=config.unit_id,
            timeout=config.timeout,
        )
        return cls(endpoint, device=device)

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
