"""GA 467 SAM commands, status codes and the layout of their answers.

A read cycle is: find the card (``20 01``, success ``9F``), select it (``20 02``, ``90``),
read text and photo (``30 01``) or text, photo and fingerprints (``30 10``), and, where
the card has one, the address endorsement (``30 03``, ``91`` when there is none). At
start-up the SAM is reset (``10 FF``), asked for its status (``11 FF``) and its id
(``12 FF``). Every status code maps to an ``Outcome`` that says what the driver does.

The photo is a 1024-byte WLT image in a proprietary compression. It is kept as bytes;
decoding it needs a vendor library (``WltDecoder`` is the hook for one). Fingerprint
templates are dropped: the gate has no use for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum, StrEnum
from typing import Protocol

from devices.idcard.frames import Request, Response
from gate.domain.errors import DeviceIOError, FrameError

TEXT_SIZE = 256
PHOTO_SIZE = 1024
SAM_ID_SIZE = 16
ENDORSEMENT_SIZE = 70


class Command(Enum):
    """The SAM commands the driver sends, as (CMD, PARA)."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_BASE = (0x30, 0x01)
    READ_ENDORSEMENT = (0x30, 0x03)
    READ_BASE_FINGERPRINT = (0x30, 0x10)

    @property
    def request(self) -> Request:
        """The request frame of this command."""
        cmd, para = self.value
        return Request(cmd, para)

    @classmethod
    def of(cls, request: Request) -> Command | None:
        """The command a request carries, None if unknown."""
        try:
            return cls((request.cmd, request.para))
        except ValueError:
            return None


class Outcome(StrEnum):
    """What a status means for the driver."""

    OK = "ok"  # go on
    NO_CARD = "no_card"  # nothing on the field
    NO_CONTENT = "no_content"  # the card has no such item (no address endorsement)
    CARD_ERROR = "card_error"  # a card is there but could not be read; try again later
    REQUEST_REJECTED = "request_rejected"  # the SAM got our request garbled; send it again
    SAM_FAULT = "sam_fault"  # the SAM itself does not work; re-initialise it


class SamStatus(IntEnum):
    """The status codes (SW3) of GA 467, with their meaning."""

    SUCCESS = 0x90
    FOUND = 0x9F
    NO_CONTENT = 0x91
    BAD_CHECKSUM = 0x10
    BAD_LENGTH = 0x11
    BAD_COMMAND = 0x21
    NOT_PERMITTED = 0x23
    UNRECOGNISED_ERROR = 0x24
    CARD_AUTH_FAILED = 0x31  # the card did not accept the SAM
    SAM_AUTH_FAILED = 0x32  # the SAM did not accept the card
    VERIFY_FAILED = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SELF_TEST_FAILED = 0x60
    NOT_AUTHORISED = 0x66
    NO_CARD_FOUND = 0x80
    SELECT_FAILED = 0x81

    @property
    def meaning(self) -> str:
        """What the status says, as GA 467 describes it."""
        return _MEANINGS[self]

    @property
    def outcome(self) -> Outcome:
        """What the driver does about it."""
        return _OUTCOMES[self]


_MEANINGS = {
    SamStatus.SUCCESS: "success",
    SamStatus.FOUND: "card found",
    SamStatus.NO_CONTENT: "the card has no content for this item",
    SamStatus.BAD_CHECKSUM: "the SAM received a frame with a wrong checksum",
    SamStatus.BAD_LENGTH: "the SAM received a frame with a wrong length",
    SamStatus.BAD_COMMAND: "the SAM does not understand the command",
    SamStatus.NOT_PERMITTED: "operation not permitted",
    SamStatus.UNRECOGNISED_ERROR: "unrecognised error",
    SamStatus.CARD_AUTH_FAILED: "the card failed to authenticate the SAM",
    SamStatus.SAM_AUTH_FAILED: "the SAM failed to authenticate the card",
    SamStatus.VERIFY_FAILED: "information verification failed",
    SamStatus.UNKNOWN_CARD_TYPE: "unknown card type",
    SamStatus.READ_FAILED: "reading the card failed",
    SamStatus.RANDOM_FAILED: "getting a random number failed",
    SamStatus.SELF_TEST_FAILED: "the SAM failed its self-test",
    SamStatus.NOT_AUTHORISED: "the SAM is not authorised",
    SamStatus.NO_CARD_FOUND: "no card found",
    SamStatus.SELECT_FAILED: "selecting the card failed",
}

_OUTCOMES = {
    SamStatus.SUCCESS: Outcome.OK,
    SamStatus.FOUND: Outcome.OK,
    SamStatus.NO_CONTENT: Outcome.NO_CONTENT,
    SamStatus.BAD_CHECKSUM: Outcome.REQUEST_REJECTED,
    SamStatus.BAD_LENGTH: Outcome.REQUEST_REJECTED,
    SamStatus.BAD_COMMAND: Outcome.SAM_FAULT,
    SamStatus.NOT_PERMITTED: Outcome.SAM_FAULT,
    SamStatus.UNRECOGNISED_ERROR: Outcome.SAM_FAULT,
    SamStatus.CARD_AUTH_FAILED: Outcome.CARD_ERROR,
    SamStatus.SAM_AUTH_FAILED: Outcome.CARD_ERROR,
    SamStatus.VERIFY_FAILED: Outcome.CARD_ERROR,
    SamStatus.UNKNOWN_CARD_TYPE: Outcome.CARD_ERROR,
    SamStatus.READ_FAILED: Outcome.CARD_ERROR,
    SamStatus.RANDOM_FAILED: Outcome.CARD_ERROR,
    SamStatus.SELF_TEST_FAILED: Outcome.SAM_FAULT,
    SamStatus.NOT_AUTHORISED: Outcome.SAM_FAULT,
    SamStatus.NO_CARD_FOUND: Outcome.NO_CARD,
    SamStatus.SELECT_FAILED: Outcome.CARD_ERROR,
}


class SamFault(DeviceIOError):
    """The SAM answered, but with a status saying it cannot work (``60``, ``66``, ...)."""

    def __init__(self, status: SamStatus | int, *, device: str | None = None) -> None:
        self.status = status
        label = (
            f"{status:02X} {status.meaning}" if isinstance(status, SamStatus) else f"{status:02X}"
        )
        super().__init__(f"SAM status {label}", device=device)


def status_of(response: Response) -> SamStatus:
    """The response's status; ``FrameError`` for a code GA 467 does not define."""
    try:
        return SamStatus(response.status)
    except ValueError:
        raise FrameError(f"unknown SAM status {response.status:02X}") from None


@dataclass(frozen=True)
class CardData:
    """The blocks of a ``30 01`` / ``30 10`` answer."""

    text: bytes
    photo: bytes
    fingerprint_size: int = 0


def parse_card_data(response: Response, *, with_fingerprint: bool) -> CardData:
    """Split a read answer into text and photo; ``FrameError`` if the lengths disagree."""
    data = response.data
    header = 6 if with_fingerprint else 4
    if len(data) < header:
        raise FrameError(f"card data of {len(data)} bytes has no length header")
    text_size = int.from_bytes(data[0:2], "big")
    photo_size = int.from_bytes(data[2:4], "big")
    fingerprint_size = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if len(data) != header + text_size + photo_size + fingerprint_size:
        raise FrameError(
            f"card data of {len(data)} bytes, but the header announces "
            f"{text_size} + {photo_size} + {fingerprint_size}"
        )
    if text_size != TEXT_SIZE:
        raise FrameError(f"text block of {text_size} bytes, expected {TEXT_SIZE}")
    if photo_size not in (0, PHOTO_SIZE):
        raise FrameError(f"photo of {photo_size} bytes, expected {PHOTO_SIZE}")
    text = data[header : header + text_size]
    photo = data[header + text_size : header + text_size + photo_size]
    return CardData(text, photo, fingerprint_size)


def card_data_bytes(text: bytes, photo: bytes, *, fingerprint: bytes | None = None) -> bytes:
    """The data part of a read answer (what the emulator sends)."""
    header = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    if fingerprint is not None:
        header += len(fingerprint).to_bytes(2, "big")
    return header + text + photo + (fingerprint or b"")


def photo_or_none(photo: bytes) -> bytes | None:
    """The WLT photo, None when the block is empty or all zeros (no photo on the card)."""
    return photo if any(photo) else None


def decode_endorsement(data: bytes) -> str | None:
    """The address endorsement's text (UCS-2LE, space padded), None if blank."""
    if len(data) % 2:
        raise FrameError(f"address endorsement of odd length {len(data)}")
    text = data.decode("utf-16-le", errors="replace").rstrip(" \x00")
    return text or None


def encode_endorsement(text: str) -> bytes:
    """The 70-byte endorsement block the emulator sends."""
    raw = text.encode("utf-16-le")[:ENDORSEMENT_SIZE]
    return raw + " ".encode("utf-16-le") * ((ENDORSEMENT_SIZE - len(raw)) // 2)


def sam_id_text(data: bytes) -> str:
    """The SAM id as hex (its 16 bytes are vendor-formatted; hex keeps them exact)."""
    if len(data) != SAM_ID_SIZE:
        raise FrameError(f"SAM id of {len(data)} bytes, expected {SAM_ID_SIZE}")
    return data.hex().upper()


class WltDecoder(Protocol):
    """Hook for a vendor's WLT decoder (for example a wrapper around ``WltRS``/``libwlt``).

    GA 467 photos use a proprietary wavelet compression; this project does not decode
    them. A deployment that has a licensed decoder can wrap it in a callable of this
    shape and turn ``IdCard.photo_wlt`` into an image where one is needed.
    """

    def __call__(self, wlt: bytes) -> bytes:
        """A BMP or JPEG image of the 1024-byte WLT photo."""
        ...
