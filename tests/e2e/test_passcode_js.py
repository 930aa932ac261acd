"""The phone-side pass renderer (api/static/passcode.js) in Debian's headless Chromium.

The page is built from the files alone (no server): the two vendored libraries and
passcode.js. What the JS computes is compared with the Python that the gate trusts
(``recognition.passes.render``, ``b45encode``), the QR it draws is screenshotted at a
phone's viewport and read back with zxing-cpp, and the rotation runs on Playwright's
fake clock.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import zxingcpp
from playwright.sync_api import Browser, Page, ViewportSize

from recognition.passes import (
    IssuedPass,
    PassKind,
    SigningKey,
    b45encode,
    issue_pass,
    open_key_ring,
    render,
)
from tests.e2e.conftest import CHROMIUM

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
SCRIPTS = (STATIC / "vendor" / "sha256.js", STATIC / "vendor" / "qrcode.js", STATIC / "passcode.js")
PHONE: ViewportSize = {"width": 390, "height": 844}
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STEP_MS = 30_000
STEP_WRAP = 1 << 16  # the token carries the step modulo this
# A dark page: the white quiet zone must come with the code, not from the page.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>html, body { margin: 0; background: #222; } #qr { padding: 12px; }</style>
</head><body><main id="qr"></main></body></html>"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def at(unix_ms: int) -> datetime:
    """The aware moment of a Unix time in milliseconds, exactly."""
    return UNIX_EPOCH + timedelta(milliseconds=unix_ms)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def open_phone(browser: Browser, *, scale: float = 1, clock_s: int | None = None) -> Page:
    """A phone-sized page with passcode.js loaded; on a paused fake clock if asked."""
    page = browser.new_page(viewport=PHONE, device_scale_factor=scale, is_mobile=True)
    if clock_s is not None:
        page.clock.install(time=clock_s - 60)
    page.set_content(PAGE)
    for script in SCRIPTS:
        page.add_script_tag(path=script)
    if clock_s is not None:
        page.clock.pause_at(clock_s)
    assert page.evaluate("typeof GatePass.passText") == "function"
    return page


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    page = open_phone(browser)
    yield page
    page.close()


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return open_key_ring(tmp_path_factory.mktemp("pass-keys")).current


@dataclass(frozen=True)
class Case:
    name: str
    kind: PassKind
    household: bool
    rotating: bool
    length: int  # characters of the QR text


CASES = [
    Case("resident-household-rotating", PassKind.RESIDENT, True, True, 182),
    Case("resident-rotating", PassKind.RESIDENT, False, True, 158),
    Case("visitor-household", PassKind.VISITOR, True, False, 173),
    Case("printed-resident", PassKind.RESIDENT, False, False, 149),
]


def issue(key: SigningKey, case: Case) -> IssuedPass:
    issued = issue_pass(
        key=key,
        kind=case.kind,
        subject_ref="5b3f9a52-8d0c-4c1e-9a43-2f6d1c7e8b90",
        household_ref="0d9e2c41-7a35-4b8f-8c16-93e4a5b7f102" if case.household else None,
        not_before=datetime(2026, 11, 1, tzinfo=UTC),
        not_after=datetime(2027, 11, 1, tzinfo=UTC),
        rotating=case.rotating,
    )
    assert (issued.secret is not None) is case.rotating
    return issued


def js_pass_texts(page: Page, issued: IssuedPass, moments_ms: list[int]) -> list[str]:
    texts: list[str] = page.evaluate(
        """([signed, secret, moments]) => {
            const s = GatePass.base64ToBytes(signed);
            const k = secret === null ? null : GatePass.base64ToBytes(secret);
            return moments.map((ms) => GatePass.passText(s, k, ms));
        }""",
        [b64(issued.signed), None if issued.secret is None else b64(issued.secret), moments_ms],
    )
    return texts


def boundary_moments() -> list[int]:
    """Around step boundaries: the 2**16 wrap of the carried step, today, far ahead."""
    steps = [1, 2, STEP_WRAP - 1, STEP_WRAP, STEP_WRAP + 1, 2 * STEP_WRAP - 1, 2 * STEP_WRAP]
    steps += [1_796_342_400 // 30, 20_000_000_000 // 30]  # 2026-12-02, the year 2603
    today = 1_796_342_400_000 // (STEP_WRAP * STEP_MS) * STEP_WRAP  # a wrap near 2026
    steps += [today - 1, today, today + 1]
    return [step * STEP_MS + delta for step in steps for delta in (-1, 0, 1, 15_000, 29_999)]


def random_moments(count: int) -> list[int]:
    rng = random.Random(6238)  # noqa: S311 -- reproducible test moments, no secret
    start = 1_577_836_800_000  # 2020-01-01
    return [rng.randrange(start, start + 80 * 365 * 86_400_000) for _ in range(count)]


# --- what the JS computes -----------------------------------------------------------


def test_totp_matches_the_rfc_6238_sha256_vectors(phone: Page) -> None:
    vectors = {
        59: 46119246,
        1111111109: 68084774,
        1111111111: 67062674,
        1234567890: 91819424,
        2000000000: 90698825,
        20000000000: 77737706,
    }
    got = phone.evaluate(
        """(times) => {
            const seed = new TextEncoder().encode("12345678901234567890123456789012");
            return times.map((t) => GatePass.totpCode(seed, GatePass.stepAt(t * 1000)));
        }""",
        list(vectors),
    )
    assert dict(zip(vectors, got, strict=True)) == vectors


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_pass_text_equals_the_python_render(phone: Page, key: SigningKey, case: Case) -> None:
    issued = issue(key, case)
    moments = boundary_moments() + random_moments(300)
    expected = [render(issued.signed, issued.secret, at(ms)) for ms in moments]
    assert js_pass_texts(phone, issued, moments) == expected
    assert {len(text) for text in expected} == {case.length}
    if case.rotating:
        assert len(set(expected)) > len(moments) // 2  # the tail does change
    else:
        assert set(expected) == {b45encode(issued.signed)}


def test_steps_and_seconds_left_at_the_boundaries(phone: Page) -> None:
    moments = [0, 1, 999, 1000, 29_000, 29_001, 29_999, 30_000, 1_796_342_399_999]
    got = phone.evaluate(
        "(ms) => ms.map((t) => [GatePass.stepAt(t), GatePass.secondsLeft(t)])", moments
    )
    assert [tuple(pair) for pair in got] == [
        (0, 30),
        (0, 30),
        (0, 30),
        (0, 29),
        (0, 1),
        (0, 1),
        (0, 1),
        (1, 30),
        (1_796_342_399_999 // STEP_MS, 1),
    ]


def test_base45_equals_python_b45encode(phone: Page) -> None:
    rng = random.Random(9285)  # noqa: S311 -- reproducible test bytes, no secret
    samples = [rng.randbytes(n) for n in [*range(0, 41), 99, 105, 115, 121, 255, 256]]
    samples += [rng.randbytes(rng.randrange(1, 300)) for _ in range(200)]
    samples += [b"\xff" * 7, b"\x00" * 6, b"ietf!", b"Hello!!", b"AB"]
    got = phone.evaluate(
        "(all) => all.map((b) => GatePass.base45Encode(Uint8Array.from(b)))",
        [list(sample) for sample in samples],
    )
    assert got == [b45encode(sample) for sample in samples]
    assert got[-3:] == ["QED8WEX0", "%69 VD92EX0", "BB8"]  # RFC 9285's own examples


def test_base64_to_bytes_takes_both_alphabets_with_or_without_padding(phone: Page) -> None:
    data = bytes(range(256)) + b"\xfb\xff"
    for text in (
        base64.b64encode(data).decode(),
        base64.urlsafe_b64encode(data).decode(),
        base64.urlsafe_b64encode(data).decode().rstrip("="),
    ):
        got = phone.evaluate("(t) => Array.from(GatePass.base64ToBytes(t))", text)
        assert bytes(got) == data


# --- the QR code on the screen ------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    text: str
    modules: int
    byte_mode_modules: int
    box: dict[str, float]  # the SVG's CSS-pixel box
    image: np.ndarray[Any, np.dtype[np.uint8]]  # the screenshot, grey


def draw_and_shoot(page: Page, text: str) -> Drawn:
    info = page.evaluate(
        """(text) => {
            const svg = GatePass.drawQr(document.getElementById("qr"), text);
            const bytes = qrcode(0, "M");  // what byte mode would have needed, to compare
            bytes.addData(text, "Byte");
            bytes.make();
            const r = svg.getBoundingClientRect();
            return {
                modules: Number(svg.dataset.modules),
                byteModes: bytes.getModuleCount(),
                box: {x: r.x, y: r.y, width: r.width, height: r.height},
            };
        }""",
        text,
    )
    png = page.screenshot(full_page=True)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    grey = np.asarray(image, dtype=np.uint8)
    return Drawn(text, info["modules"], info["byteModes"], info["box"], grey)


QR_VERSIONS = {149: 6, 158: 7, 173: 7, 182: 8}  # alphanumeric at level M
SCREEN_CASES = [(case, 1.0) for case in CASES] + [(CASES[0], 3.0)]


@pytest.mark.parametrize(
    ("case", "scale"), SCREEN_CASES, ids=[f"{c.name}@{s:g}x" for c, s in SCREEN_CASES]
)
def test_the_drawn_qr_reads_back_as_the_pass_text(
    browser: Browser, key: SigningKey, case: Case, scale: float
) -> None:
    issued = issue(key, case)
    text = issued.text_at(datetime(2026, 12, 2, 8, 30, 5, tzinfo=UTC))
    page = open_phone(browser, scale=scale)
    try:
        drawn = draw_and_shoot(page, text)
    finally:
        page.close()

    found = zxingcpp.read_barcodes(
        drawn.image,
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
        text_mode=zxingcpp.TextMode.Plain,
        try_rotate=False,
        try_downscale=False,
        try_invert=False,
    )
    assert [code.text for code in found] == [text]
    assert found[0].ec_level == "M"

    # Alphanumeric mode: the version its capacity gives, smaller than byte mode's.
    version = QR_VERSIONS[len(text)]
    extra = found[0].extra  # zxing-cpp's symbology details: {"Version": "8", ...}
    assert isinstance(extra, dict)
    assert extra["Version"] == str(version)
    assert drawn.modules == 17 + 4 * version
    assert drawn.byte_mode_modules > drawn.modules

    # Large: the width of the phone less the padding, at most 92% of its shorter side.
    box = drawn.box
    assert box["width"] == box["height"]
    assert box["width"] == pytest.approx(min(PHONE["width"] - 24, 0.92 * PHONE["width"]), abs=0.1)

    # A 4-module white quiet zone inside the image, then black modules, nothing grey.
    # (The box's edges fall between device pixels: one pixel in from each is inside.)
    side = box["width"] * scale
    module = side / (drawn.modules + 8)
    left, top = round(box["x"] * scale) + 1, round(box["y"] * scale) + 1
    inner = int(side) - 2
    code = drawn.image[top : top + inner, left : left + inner]
    dark_rows = np.flatnonzero((code < 128).any(axis=1))
    dark_cols = np.flatnonzero((code < 128).any(axis=0))
    for dark in (dark_rows, dark_cols):
        assert abs((dark[0] + 1) / module - 4) < 0.25
        assert abs((inner - dark[-1]) / module - 4) < 0.25
    grey = np.count_nonzero((code > 0) & (code < 255))
    assert grey == 0, f"{grey} anti-aliased pixels in the code"


# --- rotation on a fake clock -------------------------------------------------------


def ticks(page: Page) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = page.evaluate("window.ticks")
    return got


def shown_path(page: Page) -> str:
    d: str = page.evaluate("document.querySelector('#qr svg path').getAttribute('d')")
    return d


START_ROTATING = """([signed, secret]) => {
    window.ticks = [];
    window.rotation = GatePass.startRotating({
        container: document.getElementById("qr"),
        signedB64: signed,
        secretB64: secret,
        onTick: (tick) => window.ticks.push({...tick, now: Date.now()}),
    });
}"""


def test_start_rotating_redraws_at_each_step_boundary(browser: Browser, key: SigningKey) -> None:
    issued = issue(key, CASES[0])
    boundary_s = 1_796_342_400  # 2026-12-02T08:00:00Z, a step boundary
    page = open_phone(browser, clock_s=boundary_s - 2)
    try:
        assert page.evaluate("Date.now()") == (boundary_s - 2) * 1000
        page.evaluate(START_ROTATING, [b64(issued.signed), b64(issued.secret or b"")])
        first = ticks(page)
        assert [(t["text"], t["secondsLeft"]) for t in first] == [
            (issued.text_at(at(first[0]["now"])), 2)
        ]
        path_before = shown_path(page)

        page.clock.run_for(1_999)
        assert len(ticks(page)) == 1  # nothing before the boundary
        page.clock.run_for(1)
        second = ticks(page)[-1]
        assert second["now"] == boundary_s * 1000
        assert second["step"] == first[0]["step"] + 1
        assert second["secondsLeft"] == 30
        assert second["text"] == issued.text_at(at(boundary_s * 1000)) != first[0]["text"]
        assert shown_path(page) != path_before

        # Five more steps: one tick each, every one on a boundary.
        page.clock.run_for(5 * STEP_MS)
        later = ticks(page)[2:]
        assert [t["now"] for t in later] == [(boundary_s * 1000) + n * STEP_MS for n in range(1, 6)]
        assert all(t["text"] == issued.text_at(at(t["now"])) for t in later)

        # The phone sleeps for a while: the late timer shows the code of now, then
        # the next timeout lands on the next boundary again.
        page.clock.fast_forward(301_234)
        woke = ticks(page)[-1]
        assert woke["now"] == boundary_s * 1000 + 5 * STEP_MS + 301_234
        assert woke["text"] == issued.text_at(at(woke["now"]))
        count = len(ticks(page))
        page.clock.run_for(STEP_MS - 1_234 - 1)
        assert len(ticks(page)) == count
        page.clock.run_for(1)
        assert ticks(page)[-1]["now"] % STEP_MS == 0
        assert ticks(page)[-1]["text"] == issued.text_at(at(ticks(page)[-1]["now"]))

        page.evaluate("window.rotation.stop()")
        count = len(ticks(page))
        page.clock.run_for(3 * STEP_MS)
        assert len(ticks(page)) == count
    finally:
        page.close()


def test_a_pass_that_does_not_rotate_is_drawn_once(browser: Browser, key: SigningKey) -> None:
    issued = issue(key, CASES[3])
    page = open_phone(browser, clock_s=1_796_342_400)
    try:
        page.evaluate(START_ROTATING, [b64(issued.signed), None])
        page.clock.run_for(4 * STEP_MS)
        assert [t["text"] for t in ticks(page)] == [b45encode(issued.signed)]
    finally:
        page.close()


# --- the same module under Node -----------------------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="no node on this machine")
def test_under_node_require_returns_the_same_module() -> None:
    script = """
        const G = require(process.argv[1]);
        const seed = new TextEncoder().encode("12345678901234567890123456789012");
        console.log(JSON.stringify({
            names: Object.keys(G).sort(),
            code: G.totpCode(seed, G.stepAt(1111111109 * 1000)),
            base45: G.base45Encode(new TextEncoder().encode("ietf!")),
        }));
    """
    done = subprocess.run(
        ["node", "-e", script, str(STATIC / "passcode.js")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(done.stdout) == {
        "names": sorted(
            [
                "STEP_SECONDS",
                "base45Encode",
                "base64ToBytes",
                "drawQr",
                "passText",
                "secondsLeft",
                "startRotating",
                "stepAt",
                "totpCode",
            ]
        ),
        "code": 68084774,
        "base45": "QED8WEX0",
    }
