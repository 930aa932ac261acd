"""What a keyboard-wedge scanner typed, from its key events, on a US layout.

Pure: no evdev, no I/O. ``KeymapDecoder`` is fed ``(keycode, value)`` pairs as the kernel
reports them (Linux ``KEY_*`` codes; value 1 = down, 0 = up, 2 = autorepeat) and returns
each code once its Enter (or keypad Enter) goes down.

- Shift (either, or both: the text stays shifted until the last one is released) gives
  upper case and the symbols of the US layout; caps lock toggles upper case of letters
  only, as a PC keyboard does. The decoder starts with caps lock off.
- Ctrl with ``@``..``_`` (a letter, ``[``, ``\\``, ``]``...) gives the ASCII control
  character (GS1 codes send their group separator as Ctrl+]); anything typed with Alt or
  Meta held is a shortcut, not text, and is dropped.
- Keypad digits and operators are taken as characters whether or not num lock is on: a
  scanner never means the arrow keys.
- Autorepeat is ignored: a scanner never holds a key, so a repeat only appears when the
  host stalled, and would insert a character the scanner never sent.
- Unknown keys (Esc, F-keys, Backspace, arrows...) are ignored. A code longer than
  ``max_length`` is dropped with everything up to its Enter, as is a code interrupted by
  ``abort()`` (events were lost).
"""

from __future__ import annotations

from collections.abc import Iterable

KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2

# Linux input-event-codes.h: event types and codes a keyboard wedge sends
EV_SYN, EV_KEY, EV_MSC = 0, 1, 4
SYN_REPORT, SYN_DROPPED = 0, 3
MSC_SCAN = 4

KEY_TAB = 15
KEY_ENTER = 28
KEY_LEFTCTRL = 29
KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54
KEY_LEFTALT = 56
KEY_SPACE = 57
KEY_CAPSLOCK = 58
KEY_KPENTER = 96
KEY_RIGHTCTRL = 97
KEY_RIGHTALT = 100
KEY_LEFTMETA = 125
KEY_RIGHTMETA = 126

SHIFTS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
CTRLS = frozenset({KEY_LEFTCTRL, KEY_RIGHTCTRL})
ALTS = frozenset({KEY_LEFTALT, KEY_RIGHTALT, KEY_LEFTMETA, KEY_RIGHTMETA})
ENTERS = frozenset({KEY_ENTER, KEY_KPENTER})


def _us_layout() -> dict[int, tuple[str, str]]:
    """Keycode -> (plain, shifted) character of the US layout."""
    layout: dict[int, tuple[str, str]] = {}
    rows = (
        (2, "1234567890-=", "!@#$%^&*()_+"),  # KEY_1 .. KEY_EQUAL
        (16, "qwertyuiop[]", "QWERTYUIOP{}"),  # KEY_Q .. KEY_RIGHTBRACE
        (30, "asdfghjkl;'`", 'ASDFGHJKL:"~'),  # KEY_A .. KEY_GRAVE
        (43, "\\zxcvbnm,./", "|ZXCVBNM<>?"),  # KEY_BACKSLASH .. KEY_SLASH
    )
    for first, plain, shifted in rows:
        for offset, (lower, upper) in enumerate(zip(plain, shifted, strict=True)):
            layout[first + offset] = (lower, upper)
    layout[KEY_SPACE] = (" ", " ")
    layout[KEY_TAB] = ("\t", "\t")
    keypad = {55: "*", 71: "7", 72: "8", 73: "9", 74: "-", 75: "4", 76: "5", 77: "6"}
    keypad |= {78: "+", 79: "1", 80: "2", 81: "3", 82: "0", 83: ".", 98: "/", 117: "="}
    for code, char in keypad.items():
        layout[code] = (char, char)
    return layout


US_LAYOUT: dict[int, tuple[str, str]] = _us_layout()
KEYPAD_CODES = frozenset({55, *range(71, 84), 98, 117})


class KeymapDecoder:
    """Turns a keyboard wedge's key events into the codes it typed, one per Enter."""

    def __init__(self, *, max_length: int = 8192) -> None:
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.max_length = max_length
        self.dropped = 0  # codes dropped: too long, or interrupted by abort()
        self._chars: list[str] = []
        self._held: set[int] = set()
        self._caps = False
        self._discarding = False

    @property
    def pending(self) -> str:
        """The text typed since the last Enter."""
        return "".join(self._chars)

    def feed(self, keycode: int, value: int) -> str | None:
        """Take one key event; the completed code when it is an Enter, else None."""
        if value == KEY_UP:
            self._held.discard(keycode)
            return None
        if value != KEY_DOWN:
            return None  # autorepeat (2) or anything unexpected
        if keycode in ENTERS:
            return self._complete()
        if keycode in SHIFTS or keycode in CTRLS or keycode in ALTS:
            self._held.add(keycode)
            return None
        if keycode == KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        char = self._char(keycode)
        if char is not None and not self._discarding:
            if len(self._chars) >= self.max_length:
                self._drop()
            else:
                self._chars.append(char)
        return None

    def feed_all(self, events: Iterable[tuple[int, int]]) -> list[str]:
        """Take many ``(keycode, value)`` events; the codes they completed."""
        return [code for keycode, value in events if (code := self.feed(keycode, value))]

    def abort(self) -> None:
        """Events were lost: drop the partial code and whatever follows up to its Enter."""
        if self._chars or not self._discarding:
            self._drop()
        self._held.clear()  # a key released while events were lost would stay held

    def reset(self) -> None:
        """Forget everything: partial text, held keys, caps lock (the device was reopened)."""
        self._chars.clear()
        self._held.clear()
        self._caps = False
        self._discarding = False

    def _drop(self) -> None:
        self._chars.clear()
        self._discarding = True
        self.dropped += 1

    def _complete(self) -> str | None:
        if self._discarding:
            self._discarding = False
            return None
        text, self._chars = "".join(self._chars), []
        return text or None

    def _char(self, keycode: int) -> str | None:
        pair = US_LAYOUT.get(keycode)
        if pair is None or self._held & ALTS:
            return None
        shifted = bool(self._held & SHIFTS)
        plain, upper = pair
        if plain.isalpha() and self._caps:
            shifted = not shifted
        char = upper if shifted else plain
        if self._held & CTRLS:
            control = ord(char.upper()) - 0x40
            return chr(control) if 0 < control < 0x20 and keycode not in KEYPAD_CODES else None
        return char


def key_events(text: str, *, enter: int = KEY_ENTER) -> list[tuple[int, int]]:
    """The ``(keycode, value)`` events a US keyboard wedge sends to type ``text`` + Enter.

    Shift is pressed around each shifted character, as most scanners do. For emulators;
    ``ValueError`` for a character the layout cannot type.
    """
    strokes: dict[str, tuple[int, bool]] = {}
    for code, (plain, upper) in sorted(US_LAYOUT.items(), reverse=True):  # main keys win
        strokes[plain] = (code, False)
        if upper != plain:
            strokes[upper] = (code, True)
    events: list[tuple[int, int]] = []
    for char in text:
        if char not in strokes:
            raise ValueError(f"a US keyboard cannot type {char!r}")
        code, shifted = strokes[char]
        if shifted:
            events.append((KEY_LEFTSHIFT, KEY_DOWN))
        events += [(code, KEY_DOWN), (code, KEY_UP)]
        if shifted:
            events.append((KEY_LEFTSHIFT, KEY_UP))
    events += [(enter, KEY_DOWN), (enter, KEY_UP)]
    return events
