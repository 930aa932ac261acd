"""Random and mutated bytes thrown at the GA 467 decoders: only typed errors, no hang."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.idcard.frames import (
    HEADER_SIZE,
    MAX_LENGTH,
    PREAMBLE,
    FrameBuffer,
    Response,
    decode_frame,
    encode_frame,
    parse_response,
)
from devices.idcard.protocol import (
    SamStatus,
    card_data_bytes,
    decode_endorsement,
    parse_card_data,
    status_of,
)
from devices.idcard.text import FLAGS, decode_text, encode_text
from gate.domain.errors import FrameError
from tests.devices.ga467_helpers import ALL_TYPES, PHOTO

FUZZ = settings(
    max_examples=300,
    deadline=timedelta(seconds=1),  # a hang or a quadratic blow-up fails the example
    suppress_health_check=[HealthCheck.too_slow],
)
READ_FRAME = Response(
    0, 0, SamStatus.SUCCESS, card_data_bytes(encode_text(ALL_TYPES[0]), PHOTO)
).encode()
SHORT_FRAMES = [
    Response(0, 0, SamStatus.FOUND, bytes(4)).encode(),
    Response(0, 0, SamStatus.NO_CARD_FOUND).encode(),
    Response(0, 0, SamStatus.SUCCESS, bytes(8)).encode(),
]


def decode_everything(raw: bytes) -> None:
    """Every decoding step the driver takes on one answer; only ``FrameError`` may escape."""
    try:
        response = parse_response(decode_frame(raw))
        status_of(response)
        data = parse_card_data(response, with_fingerprint=len(response.data) % 2 == 1)
        decode_text(data.text)
    except FrameError:
        pass


@st.composite
def mutated(draw: st.DrawFn, frame: bytes) -> bytes:
    """``frame`` with bytes flipped, cut, inserted or its length field rewritten."""
    data = bytearray(frame)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "length", "drop"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "length" and len(data) >= HEADER_SIZE:
            data[5:7] = draw(st.integers(0, 0xFFFF)).to_bytes(2, "big")
        elif kind == "drop" and data:
            del data[position]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_raise_nothing_but_frame_errors(raw: bytes) -> None:
    decode_everything(raw)
    decode_everything(PREAMBLE + raw)


@FUZZ
@given(st.sampled_from([READ_FRAME, *SHORT_FRAMES]).flatmap(mutated))
def test_mutated_frames_raise_nothing_but_frame_errors(raw: bytes) -> None:
    decode_everything(raw)


@FUZZ
@given(
    chunks=st.lists(
        st.one_of(
            st.binary(max_size=64),
            st.sampled_from([PREAMBLE, PREAMBLE[:3], *SHORT_FRAMES]),
            st.sampled_from([READ_FRAME, *SHORT_FRAMES]).flatmap(mutated),
        ),
        max_size=30,
    )
)
def test_the_stream_buffer_stays_bounded_and_terminates(chunks: list[bytes]) -> None:
    buffer = FrameBuffer()
    for chunk in chunks:
        buffer.feed(chunk)
        # Every call consumes bytes or returns None, so this loop ends.
        for _ in range(len(chunk) + 2):
            try:
                if buffer.next_payload() is None:
                    break
            except FrameError:
                continue
        assert len(buffer) <= HEADER_SIZE + MAX_LENGTH + len(chunk)


@FUZZ
@given(
    payload=st.binary(min_size=2, max_size=MAX_LENGTH - 1),
    noise=st.binary(max_size=40).filter(lambda b: PREAMBLE[:1] not in b),
    cuts=st.lists(st.integers(1, 64), max_size=20),
)
def test_any_payload_comes_back_through_noise_and_any_chunking(
    payload: bytes, noise: bytes, cuts: list[int]
) -> None:
    stream = noise + encode_frame(payload)
    buffer = FrameBuffer()
    received = None
    position = 0
    for size in [*cuts, len(stream)]:
        buffer.feed(stream[position : position + size])
        position += size
        received = received or buffer.next_payload()
    assert received == payload
    assert buffer.discarded == len(noise)


@FUZZ
@given(
    body=st.binary(min_size=256, max_size=256),
    flag=st.sampled_from([*FLAGS.values(), "\x00"]),
)
def test_random_text_blocks_raise_nothing_but_frame_errors(body: bytes, flag: str) -> None:
    block = bytearray(body)
    block[248:250] = flag.encode("utf-16-le")
    with contextlib.suppress(FrameError):
        decode_text(bytes(block))


@FUZZ
@given(st.binary(max_size=300))
def test_random_endorsements_raise_nothing_but_frame_errors(data: bytes) -> None:
    with contextlib.suppress(FrameError):
        decode_endorsement(data)
