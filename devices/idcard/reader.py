"""``Ga467SerialReader``: the GA 467 SAM on a serial, USB-serial or USB-CDC port.

``read_card`` runs the polling itself, no thread: the base class's deadline loop
(``ReadingDriver._read``) reconnects when needed and calls ``_read_internal``, which finds,
selects and reads a card at most every ``poll_interval`` (GA 467 asks for >= 300 ms), until
a new card is read or the timeout passes. A card is reported once while it stays on the
reader; it counts as gone after ``ABSENT_POLLS`` "no card" answers in a row, so that a
single ``80`` (a card at the edge of the field, a missed answer) does not report the same
card again.

Faults and what the driver does about them:

- noise or a partial frame before a preamble: skipped (resynchronisation);
- a wrong checksum or length, a truncated frame, a garbled request (``10``/``11``): the
  command is sent again, up to ``RETRIES`` times, then ``FrameError`` (health degraded);
- no answer: ``DeviceTimeout`` (degraded); after ``LOST_AFTER`` silent polls the port is
  closed and reopened like an unplugged one;
- port errors (unplugged, ``EIO``): the port is closed, health offline, and reopening is
  retried with the base class's backoff; ``DeviceIOError`` until it succeeds;
- SAM faults (self-test, authorisation): ``SamFault``, the SAM is reset on the next poll.

``serial.SerialException`` and ``OSError`` are mapped here, once, into ``gate.domain.errors``.
"""

from __future__ import annotations

import logging
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import serial

from devices.base import ReadingDriver
from devices.idcard.config import Ga467SerialConfig
from devices.idcard.frames import FrameBuffer, Response, parse_response
from devices.idcard.protocol import (
    Command,
    Outcome,
    SamFault,
    SamStatus,
    decode_endorsement,
    parse_card_data,
    photo_or_none,
    sam_id_text,
    status_of,
)
from devices.idcard.text import decode_text
from gate.domain.cards import IdCard
from gate.domain.errors import ConfigError, DeviceIOError, DeviceTimeout, FrameError

logger = logging.getLogger(__name__)


# What pyserial lets escape: its own exception, OS errors, and termios.error (not an
# OSError) from tcflush/tcsetattr on a port whose device has gone.
PORT_ERRORS: tuple[type[Exception], ...] = (serial.SerialException, OSError, termios.error)
OPEN_ERRORS: tuple[type[Exception], ...] = (*PORT_ERRORS, ValueError)  # ValueError: bad settings
MIN_POLL_INTERVAL = 0.3
READ_CHUNK_TIMEOUT = 0.02


@dataclass
class ReaderStats:
    """Counters of what the driver met; for diagnostics and tests."""

    cards: int = 0
    polls: int = 0
    frame_errors: int = 0
    retries: int = 0
    timeouts: int = 0
    noise_bytes: int = 0
    card_errors: int = 0
    connects: int = 0


class Ga467SerialReader(ReadingDriver[IdCard]):
    """``gate.domain.device_ports.IdCardReader`` for a GA 467 SAM module on a serial port."""

    RETRIES = 2
    LOST_AFTER = 3
    ABSENT_POLLS = 2

    def __init__(
        self,
        port: str,
        *,
        name: str = "id-reader",
        baud: int = 115200,
        poll_interval: float = MIN_POLL_INTERVAL,
        timeout: float = 1.0,
        read_fingerprint: bool = False,
        read_endorsement: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name, monotonic=monotonic)
        if poll_interval < MIN_POLL_INTERVAL:
            raise ConfigError(
                f"{poll_interval} s is below GA 467's {MIN_POLL_INTERVAL} s", key="poll_interval"
            )
        if timeout <= 0:
            raise ConfigError("must be positive", key="timeout")
        self.port = port
        self._baud = baud
        self._poll_interval = poll_interval
        self._timeout = timeout
        self._read_command = (
            Command.READ_BASE_FINGERPRINT if read_fingerprint else Command.READ_BASE
        )
        self._read_endorsement = read_endorsement
        self._serial: serial.Serial | None = None
        self._buffer = FrameBuffer()
        self._next_poll = 0.0
        self._silent_polls = 0
        self._sam_ready = False
        self._present: tuple[str, str] | None = None
        self._absent_polls = 0
        self.sam_id: str | None = None
        self.stats = ReaderStats()

    @classmethod
    def from_config(
        cls, config: Ga467SerialConfig, *, name: str, data_dir: Path
    ) -> Ga467SerialReader:
        """Build from a ``ga467-serial`` config (the port is opened on first use)."""
        return cls(
            config.port,
            name=name,
            baud=config.baud,
            poll_interval=config.poll_interval,
            timeout=config.timeout,
        )

    def __repr__(self) -> str:
        return f"Ga467SerialReader({self.name!r}, {self.port!r})"

    # --- the port ---------------------------------------------------------------------

    def read_card(self, timeout: float) -> IdCard | None:
        """The next card placed on the reader, None if none within ``timeout`` seconds."""
        return self._read(timeout)

    def connect(self, timeout: float = 0.0) -> None:
        """Open the port and initialise the SAM now (``read_card`` does it when needed)."""
        with self._io_lock:
            self._reconnect(self._monotonic() + max(0.0, timeout))

    def close(self) -> None:
        """Release the port; a ``read_card`` in progress ends with ``DeviceIOError``."""
        self._closing.set()
        with self._io_lock:
            self._drop_port()
        self._mark_closed()

    # --- connection -------------------------------------------------------------------

    def _connected(self) -> bool:
        return self._serial is not None and self._sam_ready

    def _connect_internal(self) -> None:
        if self._serial is None:
            self._open_port()
        self._initialise()

    def _disconnect_internal(self) -> None:
        self._drop_port()

    def _open_port(self) -> None:
        self.stats.connects += 1
        try:
            self._serial = serial.Serial(
                self.port, self._baud, timeout=READ_CHUNK_TIMEOUT, write_timeout=self._timeout
            )
        except OPEN_ERRORS as exc:
            raise DeviceIOError(f"cannot open {self.port}: {exc}", device=self.name) from exc
        self._buffer.clear()
        logger.info("%s: opened %s", self.name, self.port)

    def _initialise(self) -> None:
        """Reset the SAM, check its status, read its id."""
        self._expect_success(Command.RESET_SAM)
        self._expect_success(Command.SAM_STATUS)
        response = self._expect_success(Command.SAM_ID)
        self.sam_id = sam_id_text(response.data)
        self._sam_ready = True
        self._silent_polls = 0
        self._next_poll = self._monotonic()
        self._seen()
        logger.info("%s: SAM ready", self.name)

    def _expect_success(self, command: Command) -> Response:
        response = self._transact(command)
        status = status_of(response)
        if status.outcome is not Outcome.OK:
            raise SamFault(status, device=self.name)
        return response

    def _drop_port(self) -> None:
        port, self._serial = self._serial, None
        self._sam_ready = False
        self._buffer.clear()
        if port is not None:
            try:
                port.close()
            except PORT_ERRORS as exc:
                logger.debug("%s: closing the port: %s", self.name, exc)

    # --- one poll -----------------------------------------------------------------------

    def _read_internal(self, timeout: float) -> IdCard | None:
        """One find/select/read cycle, at most every ``poll_interval``."""
        pause = self._next_poll - self._monotonic()
        if pause > 0:
            if pause > timeout:
                self._pause(timeout)
                return None
            self._pause(pause)
            self._check_open()
        self._next_poll = self._monotonic() + self._poll_interval
        self.stats.polls += 1
        card = self._cycle()
        self._silent_polls = 0
        self._seen()
        return card

    def _io_failed(self, exc: DeviceIOError) -> None:
        """Silence and garbage degrade; a SAM fault resets the SAM; a silent SAM is lost."""
        if isinstance(exc, DeviceTimeout):
            self.stats.timeouts += 1
            self._silent_polls += 1
            if self._silent_polls >= self.LOST_AFTER:
                self._drop_port()
                self._lost(f"silent for {self._silent_polls} polls")
            else:
                self._degraded(self._message(exc))
        elif isinstance(exc, SamFault):
            self._sam_ready = False  # reset it on the next poll
            self._degraded(self._message(exc))
        elif isinstance(exc, FrameError):
            self._degraded(self._message(exc))
        else:
            super()._io_failed(exc)

    def _cycle(self) -> IdCard | None:
        found = self._step(Command.FIND_CARD)
        if found is SamStatus.NO_CARD_FOUND:
            self._absent_polls += 1
            if self._absent_polls >= self.ABSENT_POLLS and self._present is not None:
                logger.debug("%s: card left the field", self.name)
                self._present = None
            return None
        self._absent_polls = 0
        if found.outcome is not Outcome.OK:
            return None
        if self._step(Command.SELECT_CARD).outcome is not Outcome.OK:
            return None
        response = self._transact(self._read_command)
        if self._card_status(response, self._read_command).outcome is not Outcome.OK:
            return None
        data = parse_card_data(
            response, with_fingerprint=self._read_command is Command.READ_BASE_FINGERPRINT
        )
        endorsement = self._endorsement() if self._read_endorsement else None
        card = decode_text(
            data.text, photo_wlt=photo_or_none(data.photo), address_endorsement=endorsement
        )
        key = (card.card_type.value, card.id_number)
        if key == self._present:
            return None
        self._present = key
        self.stats.cards += 1
        logger.info("%s: %r read", self.name, card)
        return card

    def _step(self, command: Command) -> SamStatus:
        return self._card_status(self._transact(command), command)

    def _card_status(self, response: Response, command: Command) -> SamStatus:
        status = status_of(response)
        if status.outcome is Outcome.SAM_FAULT:
            raise SamFault(status, device=self.name)
        if status.outcome is Outcome.CARD_ERROR:
            self.stats.card_errors += 1
            logger.info("%s: %s: %s", self.name, command.name, status.meaning)
        return status

    def _endorsement(self) -> str | None:
        response = self._transact(Command.READ_ENDORSEMENT)
        status = self._card_status(response, Command.READ_ENDORSEMENT)
        if status.outcome is not Outcome.OK:
            return None
        return decode_endorsement(response.data)

    # --- one command ------------------------------------------------------------------

    def _transact(self, command: Command) -> Response:
        """Send ``command`` and return its answer, asking again after a garbled exchange."""
        for attempt in range(self.RETRIES + 1):
            try:
                response = self._exchange(command)
            except FrameError as exc:
                self.stats.frame_errors += 1
                if attempt == self.RETRIES:
                    raise
                logger.debug("%s: %s: %s; asking again", self.name, command.name, exc)
            else:
                if response.status not in (SamStatus.BAD_CHECKSUM, SamStatus.BAD_LENGTH):
                    return response
                if attempt == self.RETRIES:
                    raise FrameError(
                        f"{command.name}: the SAM keeps rejecting our frames "
                        f"({SamStatus(response.status).meaning})",
                        device=self.name,
                    )
                logger.debug("%s: SAM rejected %s; sending again", self.name, command.name)
            self.stats.retries += 1
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, command: Command) -> Response:
        port = self._serial
        if port is None:
            raise DeviceIOError("port is not open", device=self.name)
        try:
            port.reset_input_buffer()
            self._buffer.clear()
            port.write(command.request.encode())
            payload = self._read_payload(port, command)
        except DeviceIOError:  # ours (DeviceTimeout is an OSError too): already mapped
            raise
        except PORT_ERRORS as exc:
            raise DeviceIOError(f"{command.name}: {exc}", device=self.name) from exc
        return parse_response(payload)

    def _read_payload(self, port: serial.Serial, command: Command) -> bytes:
        deadline = self._monotonic() + self._timeout
        buffer = self._buffer
        while True:
            try:
                payload = buffer.next_payload()
            except FrameError as exc:
                raise FrameError(f"{command.name}: {exc}", device=self.name) from exc
            finally:
                self.stats.noise_bytes += buffer.discarded
                buffer.discarded = 0
            if payload is not None:
                return payload
            self._check_open()
            if self._monotonic() >= deadline:
                if buffer.has_partial_frame:
                    raise FrameError(
                        f"{command.name}: truncated frame ({len(buffer)} bytes)", device=self.name
                    )
                raise DeviceTimeout(
                    f"{command.name}: no answer within {self._timeout} s", device=self.name
                )
            chunk = port.read(max(1, port.in_waiting))
            buffer.feed(chunk)
