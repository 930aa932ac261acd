"""GA 467 frames: the captured read answer and the public short frames parse exactly."""

from __future__ import annotations

import json
from datetime import date

import pytest

from devices.idcard.frames import (
    PREAMBLE,
    BadChecksum,
    BadLength,
    FrameBuffer,
    Request,
    Response,
    checksum,
    decode_frame,
    encode_frame,
    parse_request,
    parse_response,
)
from devices.idcard.protocol import (
    Command,
    Outcome,
    SamStatus,
    card_data_bytes,
    parse_card_data,
    photo_or_none,
    status_of,
)
from devices.idcard.text import decode_text, encode_text
from gate.domain.cards import CardType
from gate.domain.errors import FrameError
from gate.domain.people import Sex
from tests.conftest import shared_data

CAPTURE = "idcard-sam/read_base_0x3001_response_redacted.bin"
VECTORS = "idcard-sam/sam_frames.json"


@pytest.fixture(scope="module")
def capture() -> bytes:
    return shared_data(CAPTURE).read_bytes()


@pytest.fixture(scope="module")
def vectors() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(shared_data(VECTORS).read_text())
    return data


def test_the_captured_read_answer_parses_to_its_exact_layout(capture: bytes) -> None:
    assert len(capture) == 1295
    assert capture[:5] == PREAMBLE
    assert capture[5:7] == b"\x05\x08"  # 1288 bytes follow the length
    assert capture[-1] == checksum(capture[5:-1])
    response = parse_response(decode_frame(capture))
    assert (response.sw1, response.sw2, response.sw3) == (0x00, 0x00, 0x90)
    assert status_of(response) is SamStatus.SUCCESS
    assert response.data[:4] == b"\x01\x00\x04\x00"  # text 0x0100, photo 0x0400
    data = parse_card_data(response, with_fingerprint=False)
    assert (len(data.text), len(data.photo)) == (256, 1024)
    assert data.photo[:2] == b"WL"


def test_the_captured_text_block_holds_the_redacted_fields(capture: bytes) -> None:
    data = parse_card_data(parse_response(decode_frame(capture)), with_fingerprint=False)
    card = decode_text(data.text, photo_wlt=photo_or_none(data.photo))
    assert card.card_type is CardType.RESIDENT
    assert card.name == "测试样例"
    assert card.id_number == "11010519491231002X"
    assert card.sex is Sex.MALE
    assert card.ethnicity == "汉"
    assert card.birth_date == date(1949, 12, 31)
    assert (card.valid_from, card.valid_to) == (date(2017, 7, 27), date(2037, 7, 27))
    assert card.photo_wlt == data.photo
    # Encoding the decoded card gives the captured block back, padding included.
    assert encode_text(card) == data.text


REQUESTS = {
    "reset_sam_0x10FF": Command.RESET_SAM,
    "sam_status_0x11FF": Command.SAM_STATUS,
    "read_sam_id_0x12FF": Command.SAM_ID,
    "find_card_0x2001": Command.FIND_CARD,
    "select_card_0x2002": Command.SELECT_CARD,
    "read_base_0x3001": Command.READ_BASE,
    "read_new_address_0x3003": Command.READ_ENDORSEMENT,
    "read_base_with_fingerprint_0x3010": Command.READ_BASE_FINGERPRINT,
}


@pytest.mark.parametrize(("key", "command"), REQUESTS.items())
def test_every_public_request_frame_is_what_the_driver_sends(
    vectors: dict[str, dict[str, str]], key: str, command: Command
) -> None:
    raw = bytes.fromhex(vectors["requests"][key])
    assert command.request.encode() == raw
    request = parse_request(decode_frame(raw))
    assert Command.of(request) is command
    assert raw[5:7] == b"\x00\x03"


RESPONSES = {
    "find_card_ok_9F": (SamStatus.FOUND, Outcome.OK, 4),
    "find_card_fail_80": (SamStatus.NO_CARD_FOUND, Outcome.NO_CARD, 0),
    "select_card_ok_90": (SamStatus.SUCCESS, Outcome.OK, 8),
    "select_card_fail_81": (SamStatus.SELECT_FAILED, Outcome.CARD_ERROR, 0),
    "read_fail_41": (SamStatus.READ_FAILED, Outcome.CARD_ERROR, 0),
    "card_auth_fail_31": (SamStatus.CARD_AUTH_FAILED, Outcome.CARD_ERROR, 0),
}


@pytest.mark.parametrize(("key", "expected"), RESPONSES.items())
def test_every_public_response_frame_parses_exactly(
    vectors: dict[str, dict[str, str]], key: str, expected: tuple[SamStatus, Outcome, int]
) -> None:
    status, outcome, data_size = expected
    raw = bytes.fromhex(vectors["responses"][key])
    response = parse_response(decode_frame(raw))
    assert int.from_bytes(raw[5:7], "big") == len(raw) - 7
    assert (response.sw1, response.sw2) == (0, 0)
    assert status_of(response) is status
    assert status.outcome is outcome
    assert len(response.data) == data_size
    assert Response(0, 0, status, response.data).encode() == raw


@pytest.mark.parametrize(
    ("key", "fingerprint", "total"),
    [
        ("read_base_header_ok", None, 1295),
        ("read_fp_header_ok", bytes(1024), 2321),
        ("read_fp_header_ok", bytes(512), 1809),
        ("read_fp_header_ok", b"", 1297),
    ],
)
def test_the_read_answer_headers_match_what_the_emulator_sends(
    vectors: dict[str, dict[str, str]], key: str, fingerprint: bytes | None, total: int
) -> None:
    header = bytes.fromhex(vectors["responses"][key].split("(")[0].replace(" ", ""))
    data = card_data_bytes(bytes(256), bytes(1024), fingerprint=fingerprint)
    frame = Response(0, 0, SamStatus.SUCCESS, data).encode()
    assert len(frame) == total
    assert int.from_bytes(frame[5:7], "big") == total - 7
    if fingerprint is None or len(fingerprint) == 1024:
        assert frame[: len(header)] == header
    else:  # same header, with the fingerprint's and the frame's length adjusted
        assert frame[7:14] == header[7:14]
        assert frame[14:16] == len(fingerprint).to_bytes(2, "big")
    read = parse_card_data(
        parse_response(decode_frame(frame)), with_fingerprint=fingerprint is not None
    )
    assert read.fingerprint_size == len(fingerprint or b"")


def test_the_sam_id_header_announces_sixteen_bytes(vectors: dict[str, dict[str, str]]) -> None:
    header = bytes.fromhex(vectors["responses"]["read_sam_id_header_ok"].split("(")[0].strip())
    frame = Response(0, 0, SamStatus.SUCCESS, bytes(16)).encode()
    assert frame[:10] == header
    assert len(frame) == 10 + 16 + 1


def test_the_buffer_resynchronises_after_noise_and_partial_preambles() -> None:
    frame = Response(0, 0, SamStatus.FOUND, bytes(4)).encode()
    buffer = FrameBuffer()
    buffer.feed(b"\x13\x37\xaa\xaa")  # noise, then what looks like a preamble start
    assert buffer.next_payload() is None
    buffer.feed(b"\x00\xaa\xaa\xaa\x96")  # broken preamble, then the start of a real one
    for byte in frame:
        assert buffer.next_payload() is None
        buffer.feed(bytes([byte]))
    assert buffer.next_payload() == frame[7:-1]
    assert buffer.discarded == 9  # 4 + 5 bytes of noise before the frame's preamble
    assert len(buffer) == 0


def test_a_bad_checksum_is_reported_once_and_the_next_frame_still_comes_out() -> None:
    good = Response(0, 0, SamStatus.NO_CARD_FOUND).encode()
    bad = good[:-1] + bytes([good[-1] ^ 1])
    buffer = FrameBuffer()
    buffer.feed(bad + good)
    with pytest.raises(BadChecksum):
        buffer.next_payload()
    assert buffer.next_payload() == good[7:-1]


def test_an_impossible_length_is_refused_without_waiting_for_it() -> None:
    buffer = FrameBuffer()
    buffer.feed(PREAMBLE + b"\xff\xff\x00")
    with pytest.raises(BadLength):
        buffer.next_payload()
    assert buffer.next_payload() is None
    assert not buffer.has_partial_frame


def test_a_truncated_frame_waits_and_says_so() -> None:
    frame = Request(0x20, 0x01).encode()
    buffer = FrameBuffer()
    buffer.feed(frame[:-2])
    assert buffer.next_payload() is None
    assert buffer.has_partial_frame


def test_decode_frame_wants_exactly_one_frame() -> None:
    frame = encode_frame(b"\x00\x00\x80")
    assert decode_frame(frame) == b"\x00\x00\x80"
    for broken in (b"", frame[:-1], frame + b"\x00", b"\x01" + frame, frame * 2):
        with pytest.raises(FrameError):
            decode_frame(broken)
    with pytest.raises(FrameError):
        parse_response(b"\x00\x00")
    with pytest.raises(FrameError):
        parse_request(b"\x20")
