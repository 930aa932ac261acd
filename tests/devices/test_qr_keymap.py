"""KeymapDecoder against recorded keyboard-wedge event sequences, and its properties."""

from __future__ import annotations

import base64
import json
import string
from pathlib import Path
from typing import Any

import pytest
from evdev import ecodes
from hypothesis import given
from hypothesis import strategies as st

from devices.qr import keymap
from devices.qr.keymap import KEY_DOWN, KEY_UP, KeymapDecoder, key_events

RECORDINGS = json.loads((Path(__file__).parent / "data" / "hid_scans.json").read_text())[
    "recordings"
]


def key_pairs(events: list[list[Any]]) -> list[tuple[int, int]]:
    """The (keycode, value) pairs of a recording's EV_KEY events, as the HID driver feeds them."""
    return [(code, value) for _, type_, code, value in events if type_ == ecodes.EV_KEY]


@pytest.mark.parametrize("recording", RECORDINGS, ids=[r["name"] for r in RECORDINGS])
def test_recorded_scans_decode_to_what_was_typed(recording: dict[str, Any]) -> None:
    decoder = KeymapDecoder()
    assert decoder.feed_all(key_pairs(recording["events"])) == recording["expect"]
    assert decoder.pending == ""


def test_the_token_fixture_is_base64url() -> None:
    token = RECORDINGS[1]["expect"][0]
    header = token.split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))) == {
        "p": "R01-102-3"
    }


def test_keycodes_agree_with_the_kernel_headers() -> None:
    names = {
        "KEY_TAB": keymap.KEY_TAB,
        "KEY_ENTER": keymap.KEY_ENTER,
        "KEY_LEFTCTRL": keymap.KEY_LEFTCTRL,
        "KEY_LEFTSHIFT": keymap.KEY_LEFTSHIFT,
        "KEY_RIGHTSHIFT": keymap.KEY_RIGHTSHIFT,
        "KEY_LEFTALT": keymap.KEY_LEFTALT,
        "KEY_SPACE": keymap.KEY_SPACE,
        "KEY_CAPSLOCK": keymap.KEY_CAPSLOCK,
        "KEY_KPENTER": keymap.KEY_KPENTER,
        "KEY_RIGHTCTRL": keymap.KEY_RIGHTCTRL,
        "KEY_RIGHTALT": keymap.KEY_RIGHTALT,
        "KEY_LEFTMETA": keymap.KEY_LEFTMETA,
        "KEY_RIGHTMETA": keymap.KEY_RIGHTMETA,
    }
    for name, code in names.items():
        assert ecodes.ecodes[name] == code, name
    spot_checks = {
        "KEY_Q": ("q", "Q"),
        "KEY_P": ("p", "P"),
        "KEY_A": ("a", "A"),
        "KEY_M": ("m", "M"),
        "KEY_0": ("0", ")"),
        "KEY_GRAVE": ("`", "~"),
        "KEY_BACKSLASH": ("\\", "|"),
        "KEY_SLASH": ("/", "?"),
        "KEY_KP7": ("7", "7"),
        "KEY_KPDOT": (".", "."),
        "KEY_KPSLASH": ("/", "/"),
        "KEY_KPASTERISK": ("*", "*"),
    }
    for name, pair in spot_checks.items():
        assert keymap.US_LAYOUT[ecodes.ecodes[name]] == pair, name


def test_keypad_digits_and_enter() -> None:
    decoder = KeymapDecoder()
    events = []
    for name in ("KEY_KP1", "KEY_KP2", "KEY_KPMINUS", "KEY_KP0"):
        events += [(ecodes.ecodes[name], KEY_DOWN), (ecodes.ecodes[name], KEY_UP)]
    events.append((ecodes.KEY_KPENTER, KEY_DOWN))
    assert decoder.feed_all(events) == ["12-0"]


def test_ctrl_gives_control_characters_and_alt_drops_the_key() -> None:
    decoder = KeymapDecoder()
    events = [(ecodes.KEY_0, KEY_DOWN), (ecodes.KEY_1, KEY_DOWN)]
    events += [(ecodes.KEY_LEFTCTRL, KEY_DOWN), (ecodes.KEY_RIGHTBRACE, KEY_DOWN)]
    events += [(ecodes.KEY_1, KEY_DOWN), (ecodes.KEY_LEFTCTRL, KEY_UP)]  # Ctrl+1: nothing
    events += [
        (ecodes.KEY_LEFTALT, KEY_DOWN),
        (ecodes.KEY_X, KEY_DOWN),
        (ecodes.KEY_LEFTALT, KEY_UP),
    ]
    events += [(ecodes.KEY_2, KEY_DOWN), (ecodes.KEY_ENTER, KEY_DOWN)]
    assert decoder.feed_all(events) == ["01\x1d2"]  # GS1 group separator


def test_an_overlong_code_is_dropped_up_to_its_enter() -> None:
    decoder = KeymapDecoder(max_length=8)
    assert decoder.feed_all(key_events("0123456789ABCDEF")) == []
    assert decoder.dropped == 1
    assert decoder.feed_all(key_events("short")) == ["short"]
    assert decoder.feed_all(key_events("12345678")) == ["12345678"]  # exactly the limit


def test_abort_drops_the_interrupted_code_only() -> None:
    decoder = KeymapDecoder()
    events = key_events("FIRST")
    decoder.feed_all(events[:5])  # part of "FIRST", shift possibly still down
    decoder.abort()
    assert decoder.feed_all(events[5:]) == []  # the rest of FIRST, up to its Enter
    assert decoder.feed_all(key_events("second")) == ["second"]
    assert decoder.dropped == 1


def test_reset_forgets_caps_lock_and_held_keys() -> None:
    decoder = KeymapDecoder()
    decoder.feed_all([(ecodes.KEY_CAPSLOCK, KEY_DOWN), (ecodes.KEY_LEFTSHIFT, KEY_DOWN)])
    decoder.feed(ecodes.KEY_A, KEY_DOWN)
    decoder.reset()
    assert decoder.pending == ""
    assert decoder.feed_all(key_events("abc")) == ["abc"]


def test_a_character_no_us_keyboard_types_is_refused_by_the_encoder() -> None:
    with pytest.raises(ValueError, match="cannot type"):
        key_events("门禁")


TYPEABLE = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " ")


@given(TYPEABLE.filter(bool))
def test_any_typeable_text_comes_back(text: str) -> None:
    assert KeymapDecoder().feed_all(key_events(text)) == [text]


@given(st.lists(TYPEABLE.filter(bool), min_size=1, max_size=5), st.booleans())
def test_codes_back_to_back_come_back_in_order(codes: list[str], keypad_enter: bool) -> None:
    enter = ecodes.KEY_KPENTER if keypad_enter else ecodes.KEY_ENTER
    events = [event for code in codes for event in key_events(code, enter=enter)]
    assert KeymapDecoder().feed_all(events) == codes


@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(-1, 3)), max_size=300),
    st.integers(1, 40),
)
def test_any_event_stream_decodes_without_error(
    events: list[tuple[int, int]], max_length: int
) -> None:
    decoder = KeymapDecoder(max_length=max_length)
    for code in decoder.feed_all(events):
        assert code
        assert len(code) <= max_length
        assert "\n" not in code
        assert "\r" not in code
