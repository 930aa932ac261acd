"""The GA 467 SAM frame: preamble, length, payload, XOR checksum.

    AA AA AA 96 69 | LEN (2 bytes, big-endian) | payload | XOR

``LEN`` counts every byte after itself, the checksum included; the checksum is the XOR of
the two length bytes and the payload. A request's payload is ``CMD PARA [data]``, a
response's ``SW1 SW2 SW3 [data]`` (the status is SW3; SW1 and SW2 are zero).

``FrameBuffer`` turns a byte stream into payloads: it skips anything before a preamble
(noise, the tail of an earlier frame), waits for partial frames, and on a bad length or
checksum drops the broken preamble and raises ``FrameError`` so the caller can ask again;
the next call resynchronises on the following preamble. Its memory is bounded by the
largest legal frame, so no input makes it grow or loop without end.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from gate.domain.errors import FrameError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE = len(PREAMBLE) + 2
# The largest frame GA 467 defines is a read with fingerprints: 3 + 6 + 256 + 1024 + 1024
# + 1 = 0x090A. Anything announcing more than this is noise, not a frame to wait for.
MAX_LENGTH = 0x0A00
MIN_LENGTH = 3  # a request: CMD PARA XOR; a response needs one byte more (checked later)


class BadLength(FrameError):
    """A frame announces a length no GA 467 frame has."""


class BadChecksum(FrameError):
    """A frame's checksum does not match its bytes."""


def checksum(data: bytes) -> int:
    """XOR of ``data`` (the length bytes and the payload)."""
    return reduce(lambda acc, byte: acc ^ byte, data, 0)


def encode_frame(payload: bytes) -> bytes:
    """Wrap ``payload`` in preamble, length and checksum."""
    length = len(payload) + 1
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"payload of {len(payload)} bytes does not fit a GA 467 frame")
    body = length.to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


@dataclass(frozen=True)
class Request:
    """A command to the SAM: ``CMD PARA [data]``."""

    cmd: int
    para: int
    data: bytes = b""

    def encode(self) -> bytes:
        """The request's frame bytes."""
        return encode_frame(bytes([self.cmd, self.para]) + self.data)


@dataclass(frozen=True)
class Response:
    """The SAM's answer: three status bytes (SW3 is the status) and data."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def status(self) -> int:
        """The status code (SW3)."""
        return self.sw3

    def encode(self) -> bytes:
        """The response's frame bytes."""
        return encode_frame(bytes([self.sw1, self.sw2, self.sw3]) + self.data)


def parse_request(payload: bytes) -> Request:
    """Read a request payload; ``FrameError`` if it is too short."""
    if len(payload) < 2:
        raise FrameError(f"request payload of {len(payload)} byte(s); CMD and PARA expected")
    return Request(payload[0], payload[1], bytes(payload[2:]))


def parse_response(payload: bytes) -> Response:
    """Read a response payload; ``FrameError`` if it has no three status bytes."""
    if len(payload) < 3:
        raise FrameError(f"response payload of {len(payload)} byte(s); SW1 SW2 SW3 expected")
    return Response(payload[0], payload[1], payload[2], bytes(payload[3:]))


def decode_frame(raw: bytes) -> bytes:
    """The payload of exactly one frame; ``FrameError`` for anything else."""
    buffer = FrameBuffer()
    buffer.feed(raw)
    payload = buffer.next_payload()
    if payload is None or buffer.discarded:
        raise FrameError(f"{len(raw)} bytes are not one complete frame")
    if len(buffer):
        raise FrameError(f"{len(buffer)} byte(s) after the frame")
    return payload


class FrameBuffer:
    """Collects bytes from a port and hands out complete, verified payloads."""

    def __init__(self) -> None:
        self._data = bytearray()
        self.discarded = 0  # bytes skipped while looking for a preamble

    def __len__(self) -> int:
        return len(self._data)

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._data += data
        self._skip_noise()

    def clear(self) -> None:
        """Forget everything buffered (before a new request)."""
        self._data.clear()

    @property
    def has_partial_frame(self) -> bool:
        """True when a preamble was seen whose frame is not complete yet."""
        return self._data.startswith(PREAMBLE)

    def next_payload(self) -> bytes | None:
        """The next complete frame's payload, None if more bytes are needed.

        Raises ``FrameError`` for a frame with an impossible length or a wrong checksum,
        after dropping its preamble so that the next call looks further on.
        """
        self._skip_noise()
        data = self._data
        if len(data) < HEADER_SIZE:
            return None
        length = int.from_bytes(data[5:7], "big")
        if not MIN_LENGTH <= length <= MAX_LENGTH:
            del data[0]
            self._skip_noise()
            raise BadLength(f"frame length {length} outside {MIN_LENGTH}..{MAX_LENGTH}")
        end = HEADER_SIZE + length
        if len(data) < end:
            return None
        body = bytes(data[5 : end - 1])
        expected, actual = checksum(body), data[end - 1]
        if expected != actual:
            del data[0]
            self._skip_noise()
            raise BadChecksum(f"checksum {actual:02X}, expected {expected:02X} (length {length})")
        del data[:end]
        return body[2:]

    def _skip_noise(self) -> None:
        """Drop bytes before the first preamble; keep a tail that may start one."""
        data = self._data
        start = data.find(PREAMBLE)
        if start < 0:
            # The last four bytes may be the start of a preamble split across reads.
            start = max(0, len(data) - (len(PREAMBLE) - 1))
            while start < len(data) and not PREAMBLE.startswith(bytes(data[start:])):
                start += 1
        if start:
            del data[:start]
            self.discarded += start
