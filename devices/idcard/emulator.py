"""A GA 467 SAM emulator on a pseudo-terminal: the real driver talks to it byte for byte.

The emulator opens a pty (``os.openpty``) and answers requests on the master side like a
SAM module: reset, status and id at start-up; ``80`` to "find card" while the field is
empty, ``9F`` / ``90`` and the card's 256-byte text block and 1024-byte photo while a card
lies on it. Cards come from a list (a ``cards.json`` of ``IdCard.to_json()`` objects,
extra keys ignored) and are presented in turn, each for ``present_for`` seconds followed
by ``away_for`` seconds of an empty field; ``place`` / ``take_away`` drive it by hand.

The driver opens ``path``, a symbolic link to the current pty in a private folder (like
a udev ``/dev/serial/by-id`` link), so that ``disconnect`` can close the pty and, after a
while, plug a new one in under the same name. ``inject`` garbles the next answers
(``Fault``) and ``fail_next`` makes a command answer with a given status.

It runs in one thread; ``stop`` ends it and closes every descriptor.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import tempfile
import threading
import time
import tty
from collections import deque
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from types import TracebackType

from devices.idcard.frames import BadLength, FrameBuffer, Request, Response, parse_request
from devices.idcard.protocol import (
    PHOTO_SIZE,
    Command,
    SamStatus,
    card_data_bytes,
    encode_endorsement,
)
from devices.idcard.text import TextEncodingError, encode_text
from gate.domain.cards import IdCard
from gate.domain.errors import ConfigError, FrameError

logger = logging.getLogger(__name__)

SAM_ID = bytes.fromhex("0501000020260101000004670000AA01")
GARBAGE = b"\x00\x55\xaa\xaa\x17\xaa\xaa\xaa\x96\x01\xfe\x69"  # noise with partial preambles
LINK_NAME = "ttyGA467"


class Fault(StrEnum):
    """Ways to garble the emulator's next answer."""

    BAD_CHECKSUM = "bad_checksum"
    TRUNCATED = "truncated"  # half the frame, then nothing
    WRONG_LENGTH = "wrong_length"  # a length no frame has
    GARBAGE = "garbage"  # noise before the frame
    SILENCE = "silence"  # no answer at all
    DISCONNECT = "disconnect"  # the device is unplugged instead of answering


def load_cards(path: Path) -> list[IdCard]:
    """The cards of a ``cards.json``; ``ConfigError`` naming the problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no card file at {path} (run `gate demo seed` or name one)", key="cards"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", key="cards") from None
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{path} must hold a non-empty list of cards", key="cards")
    cards = []
    for number, item in enumerate(data, 1):
        try:
            if not isinstance(item, dict):
                raise TypeError("not an object")
            cards.append(IdCard.from_json(item))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: card {number}: {exc!r}", key="cards") from None
    return cards


class Ga467Emulator:
    """A SAM module on a pseudo-terminal presenting ``cards`` in turn."""

    def __init__(
        self,
        cards: Sequence[IdCard] = (),
        *,
        present_for: float = 2.5,
        away_for: float = 2.5,
        auto: bool = True,
        strict: bool = False,
    ) -> None:
        if present_for <= 0 or away_for <= 0:
            raise ConfigError("card times must be positive", key="card_interval")
        self.cards = list(cards)
        self._blocks = [self._encode(card, strict=strict) for card in self.cards]
        self.present_for, self.away_for = present_for, away_for
        self._auto = auto and bool(self.cards)
        self._lock = threading.Lock()
        self._manual: int | None = None
        self._found: int | None = None
        self._selected = False
        self._faults: deque[Fault] = deque()
        self._statuses: deque[tuple[Command, SamStatus]] = deque()
        self.requests: deque[tuple[float, Command | None]] = deque(maxlen=1000)
        self._dir: str | None = None
        self._master = self._slave = -1
        self._reopen_at: float | None = None
        self._down_for = 1.0
        self._started = 0.0
        self._stop = threading.Event()
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._buffer = FrameBuffer()

    @classmethod
    def from_file(
        cls, path: Path, *, present_for: float = 2.5, away_for: float = 2.5
    ) -> Ga467Emulator:
        """An emulator presenting the cards of a ``cards.json`` in turn."""
        return cls(load_cards(path), present_for=present_for, away_for=away_for)

    @staticmethod
    def _encode(card: IdCard, *, strict: bool) -> tuple[bytes, bytes]:
        try:
            text = encode_text(card, strict=strict)
        except TextEncodingError as exc:
            raise ConfigError(f"card {card!r}: {exc}", key="cards") from None
        photo = (card.photo_wlt or b"")[:PHOTO_SIZE]
        if card.photo_wlt and len(card.photo_wlt) != PHOTO_SIZE:
            logger.warning("%r: photo of %d bytes padded/cut", card, len(card.photo_wlt))
        return text, photo.ljust(PHOTO_SIZE, b"\x00")

    # --- life cycle -------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The port to open: a stable link to the current pseudo-terminal."""
        if self._dir is None:
            raise RuntimeError("the emulator is not started")
        return os.path.join(self._dir, LINK_NAME)

    def start(self) -> str:
        """Open the pseudo-terminal, start answering, return ``path``."""
        if self._thread is not None:
            return self.path
        self._dir = tempfile.mkdtemp(prefix="ga467-")
        self._wake_r, self._wake_w = os.pipe()
        self._open_pty()
        self._started = time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ga467-emulator", daemon=True)
        self._thread.start()
        logger.info("GA 467 emulator on %s", self.path)
        return self.path

    def stop(self) -> None:
        """Stop answering and close everything."""
        self._stop.set()
        if self._wake_w >= 0:
            os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close_pty()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def close(self) -> None:
        """Stop (the name ``devices.emulated.EmulatedDriver`` closes an emulator by)."""
        self.stop()

    def __enter__(self) -> Ga467Emulator:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- the card field and faults ----------------------------------------------------

    def place(self, card: int | IdCard = 0) -> None:
        """Put a card (an index into ``cards`` or a new card) on the reader; stops the cycle."""
        with self._lock:
            if isinstance(card, IdCard):
                self.cards.append(card)
                self._blocks.append(self._encode(card, strict=True))
                card = len(self.cards) - 1
            if not 0 <= card < len(self.cards):
                raise ValueError(f"no card {card}; the emulator has {len(self.cards)}")
            self._auto, self._manual = False, card

    def take_away(self) -> None:
        """Empty the field; stops the cycle."""
        with self._lock:
            self._auto, self._manual = False, None

    def inject(self, fault: Fault, times: int = 1) -> None:
        """Garble the next ``times`` answers."""
        with self._lock:
            self._faults.extend([fault] * times)

    def fail_next(self, command: Command, status: SamStatus) -> None:
        """Answer the next ``command`` with ``status`` and no data."""
        with self._lock:
            self._statuses.append((command, status))

    def disconnect(self, down_for: float = 1.0) -> None:
        """Unplug the device now and plug it back in after ``down_for`` seconds."""
        if self._wake_w < 0:
            raise RuntimeError("the emulator is not started")
        with self._lock:
            self._faults.appendleft(Fault.DISCONNECT)
            self._down_for = down_for
        os.write(self._wake_w, b"d")

    @property
    def card_on_field(self) -> int | None:
        """The index of the card on the reader, None if the field is empty."""
        with self._lock:
            return self._current()

    def _current(self) -> int | None:
        if not self._auto:
            return self._manual
        period = self.present_for + self.away_for
        elapsed = time.monotonic() - self._started
        turn, within = divmod(elapsed, period)
        return int(turn) % len(self.cards) if within < self.present_for else None

    # --- the pty ----------------------------------------------------------------------

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing, no CR/LF translation
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        link = self.path
        temporary = f"{link}.new"
        os.symlink(os.ttyname(slave), temporary)
        os.replace(temporary, link)
        self._buffer.clear()
        self._reopen_at = None

    def _close_pty(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1
        if self._dir is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def _unplug(self) -> None:
        logger.info("emulator: unplugged for %.1f s", self._down_for)
        self._close_pty()
        self._reopen_at = time.monotonic() + self._down_for

    # --- the loop ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._reopen_at is not None:
                if self._stop.wait(max(0.0, self._reopen_at - time.monotonic())):
                    return
                self._open_pty()
                continue
            ready, _, _ = select.select([self._master, self._wake_r], [], [], 0.2)
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
                with self._lock:
                    unplug = bool(self._faults) and self._faults[0] is Fault.DISCONNECT
                    if unplug:
                        self._faults.popleft()
                if unplug:
                    self._unplug()
                    continue
            if self._master in ready:
                try:
                    data = os.read(self._master, 4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    continue  # EIO while no one holds the slave; we do, so rare
                self._buffer.feed(data)
                self._answer_all()

    def _answer_all(self) -> None:
        while self._master >= 0:
            try:
                payload = self._buffer.next_payload()
            except BadLength:
                self._send(Response(0, 0, SamStatus.BAD_LENGTH))
                continue
            except FrameError:
                self._send(Response(0, 0, SamStatus.BAD_CHECKSUM))
                continue
            if payload is None:
                return
            try:
                request = parse_request(payload)
            except FrameError:
                self._send(Response(0, 0, SamStatus.BAD_LENGTH))
                continue
            self._send(self._respond(request))

    def _respond(self, request: Request) -> Response:
        command = Command.of(request)
        self.requests.append((time.monotonic(), command))
        with self._lock:
            if command is None:
                return Response(0, 0, SamStatus.BAD_COMMAND)
            if self._statuses and self._statuses[0][0] is command:
                return Response(0, 0, self._statuses.popleft()[1])
            card = self._current()
            if card != self._found:
                self._found, self._selected = None, False
            return self._sam(command, card)

    def _sam(self, command: Command, card: int | None) -> Response:
        ok = SamStatus.SUCCESS
        match command:
            case Command.RESET_SAM | Command.SAM_STATUS:
                return Response(0, 0, ok)
            case Command.SAM_ID:
                return Response(0, 0, ok, SAM_ID)
            case Command.FIND_CARD:
                if card is None:
                    return Response(0, 0, SamStatus.NO_CARD_FOUND)
                self._found = card
                return Response(0, 0, SamStatus.FOUND, bytes(4))
            case Command.SELECT_CARD:
                if card is None or self._found != card:
                    return Response(0, 0, SamStatus.SELECT_FAILED)
                self._selected = True
                return Response(0, 0, ok, bytes(8))
        if card is None or not self._selected:
            return Response(0, 0, SamStatus.READ_FAILED)
        text, photo = self._blocks[card]
        if command is Command.READ_ENDORSEMENT:
            endorsement = self.cards[card].address_endorsement
            if not endorsement:
                return Response(0, 0, SamStatus.NO_CONTENT)
            return Response(0, 0, ok, encode_endorsement(endorsement))
        fingerprint = b"" if command is Command.READ_BASE_FINGERPRINT else None
        return Response(0, 0, ok, card_data_bytes(text, photo, fingerprint=fingerprint))

    def _send(self, response: Response) -> None:
        frame = response.encode()
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        match fault:
            case Fault.BAD_CHECKSUM:
                frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
            case Fault.TRUNCATED:
                frame = frame[: len(frame) // 2]
            case Fault.WRONG_LENGTH:
                frame = frame[:5] + b"\xff\xf0" + frame[7:]
            case Fault.GARBAGE:
                frame = GARBAGE + frame
            case Fault.SILENCE:
                return
            case Fault.DISCONNECT:
                self._unplug()
                return
        self._write(frame)

    def _write(self, data: bytes) -> None:
        """Write to the line; what the other side does not take in time is lost, as on a wire."""
        deadline = time.monotonic() + 0.5
        while data and self._master >= 0 and time.monotonic() < deadline:
            _, writable, _ = select.select([], [self._master], [], 0.05)
            if not writable:
                continue
            try:
                data = data[os.write(self._master, data) :]
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return
