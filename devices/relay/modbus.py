"""A barrier relay on a Modbus relay module (TCP or RTU).

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

It talks through ``devices.modbus.link.ModbusLink``, which maps pymodbus and OS errors into
``DeviceIOError`` / ``DeviceTimeout``; a lost module is retried with the backoff of
``DeviceDriver``. Calls block (a pulse takes ``pulse_ms``): the pipeline calls ``open()``
off the event loop. ``devices.relay.emulated.EmulatedModbusRelay`` is this driver against
an in-process emulated module.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

from devices.base import DeviceDriver
from devices.modbus.link import ModbusLink
from devices.relay.config import ModbusRelayConfig
from gate.domain.device_ports import DeviceHealth, DeviceState
from gate.domain.errors import DeviceIOError
from gate.domain.model import Direction

logger = logging.getLogger(__name__)


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
        # Connect and switch the coil off: de-energised from the start. If the module is not
        # there yet, open() retries after the backoff. (No other thread sees us yet.)
        with contextlib.suppress(DeviceIOError):
            self._reconnect()

    @classmethod
    def from_config(cls, config: ModbusRelayConfig, *, name: str, data_dir: Path) -> ModbusRelay:
        """Build from a ``modbus-relay`` config."""
        return cls(
            name,
            link=ModbusLink.from_config(config, device=name),
            coil=config.coil,
            pulse_ms=config.pulse_ms,
            closed_input=config.closed_input,
        )

    def open(self, lane: str, direction: Direction) -> None:
        """Pulse the coil; ``DeviceIOError`` if the module fails or the barrier did not open."""
        with self._io_lock:
            self._reconnect()
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
        with self._io_lock:
            try:
                self._reconnect()
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
        with self._io_lock:
            if self._link.connected:
                try:
                    self._link.write_coil(self._coil, False)
                except DeviceIOError as exc:
                    logger.error("%s: could not switch coil off on close: %s", self.name, exc)
            self._link.close()
            self._mark_closed()

    def _connected(self) -> bool:
        return self._link.connected

    def _connect_internal(self) -> None:
        self._link.connect()
        self._link.write_coil(self._coil, False)
        self._seen()

    def _disconnect_internal(self) -> None:
        self._link.close()

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
