"""Phone screens held up to a gate camera: a seeded, reproducible set of 1280x720 frames.

Nothing is stored: every frame is rendered from ``(seed, index)``. A frame is a pass-like
text (base45 alphanumerics, 60-120 characters) as a QR code on a phone's screen (an app
page with a header and lines of text), the screen's pixel grid (so resampling by the
camera makes moire), the phone's bezel, a pose (scale, in-plane turn, tilt towards or
away from the camera through a pinhole of focal length 1000 px), a background scene,
exposure with reflected light lifting the blacks, a specular glare spot, defocus and
motion blur, sensor noise and JPEG compression. ``PhoneScreen.params`` says how much of
each a frame got, for reading a failure.

The ranges (``Conditions``) are what a camera beside a barrier sees at 20-60 cm: the
code's side spans 130-400 px of the frame (3-11 px a module), tilts up to 35 degrees,
glare up to a third of the code's side. They were set before measuring. One change came
after the first measurement: hand motion and defocus blur scale with the code's image
size (both shrink with distance as the code does), so ``GATE`` draws them mostly in
modules; the first version drew them in pixels whatever the size and is kept as
``HARSH``, reported beside ``GATE`` and not tuned to.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import segno

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
FRAME_SIZE = (1280, 720)
DEFAULT_SEED = 20200214
BEZEL = 36  # phone image pixels of black bezel around the screen
GRID = 3  # phone image pixels per screen pixel (the R, G, B stripes)

Image = npt.NDArray[Any]  # cv2 types its results loosely
# (B, G, R) of the code's dark modules: black, or a dark app colour.
MODULE_COLOURS = ((0, 0, 0), (0, 0, 0), (0, 0, 0), (40, 110, 0), (110, 50, 0), (30, 30, 120))
HEADER_COLOURS = ((60, 160, 30), (200, 120, 20), (40, 40, 190), (90, 90, 90))


@dataclass(frozen=True)
class Conditions:
    """The ranges a frame's parameters are drawn from, uniformly; blur in pixels plus modules."""

    text_chars: tuple[int, int] = (60, 120)  # the pass-like text's length
    code_px: tuple[float, float] = (130, 400)  # the code's side in the frame
    tilt_deg: float = 35  # towards or away from the camera, both axes
    turn_deg: float = 25  # in the screen's plane
    black_lift: tuple[float, float] = (0, 60)  # reflected room light on the dark modules
    glare_side: tuple[float, float] = (0, 0.33)  # the specular spot, a fraction of the side
    glare_peak: tuple[float, float] = (40, 170)
    sheen: tuple[float, float] = (0, 50)  # a window reflected across the glass
    # Hand motion and defocus scale with the code's image size (both shrink with distance
    # as the code does), so most of the blur is drawn in modules; the camera's own
    # softness is in pixels.
    defocus_px: tuple[float, float] = (0.3, 0.8)
    defocus_modules: tuple[float, float] = (0, 0.25)
    motion_px: tuple[float, float] = (0, 1.0)
    motion_modules: tuple[float, float] = (0, 0.6)
    noise: tuple[float, float] = (1, 8)  # sensor noise, standard deviation in grey levels
    jpeg_quality: tuple[int, int] = (35, 90)


GATE = Conditions()
# Blur drawn in pixels whatever the code's size, as in this set's first version: the
# smallest codes (3.5 px a module) get up to 1.6 px defocus and 6 px of motion.
HARSH = Conditions(
    defocus_px=(0.0, 1.6), defocus_modules=(0, 0), motion_px=(0, 6.0), motion_modules=(0, 0)
)
# GATE with texts as long as the pass tokens of recognition/passes (99-121 bytes, 149-182
# base45 characters, plus the rotating code): denser codes in the same place on the screen.
TOKEN_SIZED = Conditions(text_chars=(150, 190))


@dataclass(frozen=True)
class PhoneScreen:
    """One rendered frame, the text its code carries, and what was done to it."""

    index: int
    text: str
    frame: Image
    params: dict[str, float]


def pass_text(rng: np.random.Generator, chars: tuple[int, int] = (60, 120)) -> str:
    """A pass-like token: ``GP1:`` and base45 alphanumerics, ``chars`` long in all."""
    length = int(rng.integers(chars[0], chars[1] + 1))
    body = rng.choice(np.array(list(BASE45)), size=length - 4)
    return "GP1:" + "".join(body.tolist())


def qr_modules(text: str, error: str) -> npt.NDArray[np.bool_]:
    """The QR code's module matrix (True is dark), alphanumeric mode, no quiet zone."""
    code = segno.make(text, error=error, mode="alphanumeric", micro=False, boost_error=False)
    return np.array([list(row) for row in code.matrix], dtype=bool)


def _screen(
    rng: np.random.Generator, modules: npt.NDArray[np.bool_], with_code: bool
) -> tuple[Image, tuple[float, float, float]]:
    """The phone's screen (portrait, BGR) with the code on a white card; the code's box.

    Without the code the card holds a page of text in its place (words as dark bars).
    """
    width, height = 540, 1170
    screen = np.full((height, width, 3), 246, np.uint8)
    header = HEADER_COLOURS[int(rng.integers(len(HEADER_COLOURS)))]
    screen[:150] = header
    for row in range(3):  # lines of text above the card
        y = 190 + row * 44
        length = int(rng.integers(200, 460))
        screen[y : y + 22, 40 : 40 + length] = int(rng.integers(40, 110))
    quiet = int(rng.integers(2, 5))
    side = modules.shape[0] + 2 * quiet
    pitch = int(rng.uniform(0.70, 0.86) * width) // side
    card = np.full((side * pitch, side * pitch, 3), 255, np.uint8)
    dark = np.kron(modules, np.ones((pitch, pitch), dtype=bool))
    inner = card[quiet * pitch : (side - quiet) * pitch, quiet * pitch : (side - quiet) * pitch]
    colour = MODULE_COLOURS[int(rng.integers(len(MODULE_COLOURS)))]
    if with_code:
        inner[dark] = colour
    else:
        _words(rng, inner, pitch, colour)
    x = (width - card.shape[1]) // 2
    y = 340
    screen[y : y + card.shape[0], x : x + card.shape[1]] = card
    for row in range(2):  # the masked name and room under the code
        line_y = y + card.shape[0] + 40 + row * 46
        screen[line_y : line_y + 24, 60 : 60 + int(rng.integers(180, 420))] = 60
    box = (x + quiet * pitch, y + quiet * pitch, modules.shape[0] * pitch)
    return _pixel_grid(screen), (float(box[0]), float(box[1]), float(box[2]))


def _words(rng: np.random.Generator, area: Image, pitch: int, colour: tuple[int, int, int]) -> None:
    """Lines of words (dark bars a little shorter than a line) filling ``area``."""
    line = 3 * pitch
    for top in range(0, area.shape[0] - 2 * pitch, line):
        x = 0
        while x < area.shape[1]:
            word = int(rng.integers(2, 9)) * pitch
            area[top : top + 2 * pitch, x : min(x + word, area.shape[1])] = colour
            x += word + pitch


def _pixel_grid(screen: Image) -> Image:
    """Each screen pixel as R, G, B vertical stripes over a dark row: moire when sampled."""
    big = cv2.resize(
        screen, (screen.shape[1] * GRID, screen.shape[0] * GRID), interpolation=cv2.INTER_NEAREST
    )
    return cv2.multiply(big, _stripes(big.shape[0], big.shape[1]), scale=1 / 255)


@functools.cache
def _stripes(height: int, width: int) -> Image:
    """Light let through per image pixel and channel: full on a pixel's own stripe, else 45%."""
    cell = np.full((GRID, GRID, 3), 115, np.uint8)  # the cover glass diffuses some light
    for channel, column in ((2, 0), (1, 1), (0, 2)):  # BGR: red stripe left, blue right
        cell[: GRID - 1, column, channel] = 255
    return np.tile(cell, (height // GRID, width // GRID, 1))


@functools.cache
def _grid(width: int, height: int) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return ys, xs


def _phone(screen: Image) -> tuple[Image, npt.NDArray[np.uint8]]:
    """The screen in a black bezel with rounded corners; the phone's mask."""
    border = BEZEL
    height, width = screen.shape[0] + 2 * border, screen.shape[1] + 2 * border
    phone = np.full((height, width, 3), 18, np.uint8)
    phone[border:-border, border:-border] = screen
    mask = np.zeros((height, width), np.uint8)
    radius = 90
    cv2.rectangle(mask, (radius, 0), (width - radius, height), 255, -1)
    cv2.rectangle(mask, (0, radius), (width, height - radius), 255, -1)
    for cx, cy in ((radius, radius), (width - radius, radius), (radius, height - radius)):
        cv2.circle(mask, (cx, cy), radius, 255, -1)
    cv2.circle(mask, (width - radius, height - radius), radius, 255, -1)
    return phone, mask


def _background(rng: np.random.Generator) -> Image:
    """A scene behind the phone: a lit gradient, a few blocks of clothing and wall, texture."""
    width, height = FRAME_SIZE
    ys, xs = _grid(width, height)
    slope_x, slope_y = np.float32(rng.uniform(-0.06, 0.06)), np.float32(rng.uniform(-0.08, 0.08))
    base = np.float32(rng.uniform(40, 180)) + slope_x * xs + slope_y * ys
    tint = rng.uniform(0.8, 1.2, size=3).astype(np.float32)
    frame = cv2.merge([base * tint[0], base * tint[1], base * tint[2]])
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        axes = (int(rng.integers(60, 400)), int(rng.integers(60, 300)))
        colour = tuple(float(c) for c in rng.uniform(20, 220, size=3))
        cv2.ellipse(frame, (x0, y0), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    texture = cv2.GaussianBlur(14 * rng.standard_normal((height, width), np.float32), (0, 0), 2)
    frame += texture[:, :, None]
    scene: Image = np.clip(frame, 0, 255).astype(np.uint8)
    return scene


def _pose(
    rng: np.random.Generator,
    conditions: Conditions,
    phone_size: tuple[int, int],
    code_box: tuple[float, float, float],
) -> npt.NDArray[Any]:
    """A homography from the phone image into the frame: scale, turn, tilt, place."""
    width, height = phone_size
    code_x, code_y, code_side = code_box
    target_side = rng.uniform(*conditions.code_px)
    scale = target_side / code_side
    yaw, pitch = np.radians(rng.uniform(-conditions.tilt_deg, conditions.tilt_deg, size=2))
    roll = np.radians(rng.uniform(-conditions.turn_deg, conditions.turn_deg))
    rotation = _rotation(pitch, yaw, roll)
    focal = 1000.0
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    centre = np.array([code_x + code_side / 2, code_y + code_side / 2])
    points3 = np.column_stack([(corners - centre) * scale, np.zeros(4)])
    camera = points3 @ rotation.T + np.array([0.0, 0.0, focal])
    projected = focal * camera[:, :2] / camera[:, 2:3]
    margin = target_side * 0.75
    shift = np.array(
        [rng.uniform(margin, FRAME_SIZE[0] - margin), rng.uniform(margin, FRAME_SIZE[1] - margin)]
    )
    return cv2.getPerspectiveTransform(
        corners.astype(np.float32), (projected + shift).astype(np.float32)
    )


def _rotation(pitch: float, yaw: float, roll: float) -> npt.NDArray[Any]:
    cx, sx, cy, sy, cz, sz = (
        np.cos(pitch),
        np.sin(pitch),
        np.cos(yaw),
        np.sin(yaw),
        np.cos(roll),
        np.sin(roll),
    )
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    rotation: npt.NDArray[Any] = rz @ ry @ rx
    return rotation


def render(
    index: int, seed: int = DEFAULT_SEED, conditions: Conditions = GATE, *, with_code: bool = True
) -> PhoneScreen:
    """Frame ``index`` of the set ``seed``: always the same pixels for the same arguments.

    ``with_code=False`` shows a page of text where the code would be, and ``text`` is empty.
    """
    rng = np.random.default_rng([seed, index])
    text = pass_text(rng, conditions.text_chars)
    error = str(rng.choice(["L", "M", "M", "Q"]))
    modules = qr_modules(text, error)
    screen, (box_x, box_y, box_side) = _screen(rng, modules, with_code)
    phone, mask = _phone(screen)
    # The phone image holds the screen at 3x3 image pixels per screen pixel, in a bezel.
    code_box = (BEZEL + GRID * box_x, BEZEL + GRID * box_y, GRID * box_side)
    homography = _pose(rng, conditions, (phone.shape[1], phone.shape[0]), code_box)
    code_px = _projected_side(homography, code_box)
    module_px = code_px / modules.shape[0]
    frame = _background(rng)
    warped = cv2.warpPerspective(phone, homography, FRAME_SIZE, flags=cv2.INTER_LINEAR)
    warped_mask = cv2.warpPerspective(mask, homography, FRAME_SIZE, flags=cv2.INTER_LINEAR)
    lift = np.float32(rng.uniform(*conditions.black_lift))
    gain = np.float32(rng.uniform(0.75, 1.1))
    screen_light = np.clip(warped.astype(np.float32) * gain * (255 - lift) / 255 + lift, 0, 255)
    alpha = (warped_mask.astype(np.float32) / 255)[:, :, None]
    out: Image = frame.astype(np.float32) * (1 - alpha) + screen_light * alpha
    glare_side = float(rng.uniform(*conditions.glare_side))
    glare_peak = float(rng.uniform(*conditions.glare_peak))
    out += _glare(rng, homography, code_box, glare_side, glare_peak) * alpha
    sheen = float(rng.uniform(*conditions.sheen))
    out += _sheen(rng, homography, code_box, sheen) * alpha
    out = np.clip(out, 0, 255).astype(np.uint8)
    sigma = (
        rng.uniform(*conditions.defocus_px) + rng.uniform(*conditions.defocus_modules) * module_px
    )
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    motion = (
        rng.uniform(*conditions.motion_px) + rng.uniform(*conditions.motion_modules) * module_px
    )
    if round(motion) > 1:
        out = _motion_blur(out, round(motion), float(rng.uniform(0, 180)))
    noise = float(rng.uniform(*conditions.noise))
    grain = np.float32(noise) * rng.standard_normal(out.shape, np.float32)
    out = np.clip(out + grain, 0, 255).astype(np.uint8)
    quality = int(rng.integers(conditions.jpeg_quality[0], conditions.jpeg_quality[1] + 1))
    ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    assert decoded is not None
    params = {
        "error_level": "LMQ".index(error),
        "modules": float(modules.shape[0]),
        "code_px": code_px,
        "module_px": module_px,
        "glare_side": glare_side,
        "glare_peak": glare_peak,
        "blur_sigma": float(sigma),
        "motion_px": float(round(motion)),
        "noise": noise,
        "jpeg_quality": float(quality),
        "black_lift": float(lift),
        "sheen": sheen,
    }
    return PhoneScreen(index=index, text=text if with_code else "", frame=decoded, params=params)


def _glare(
    rng: np.random.Generator,
    homography: npt.NDArray[Any],
    code_box: tuple[float, float, float],
    side_fraction: float,
    peak: float,
) -> npt.NDArray[Any]:
    """A specular highlight: a soft ellipse somewhere over the code, in frame coordinates."""
    width, height = FRAME_SIZE
    code_x, code_y, code_side = code_box
    spot = np.array([[[code_x + rng.uniform(0, code_side), code_y + rng.uniform(0, code_side)]]])
    ((cx, cy),) = cv2.perspectiveTransform(spot, homography)[0]
    side = _projected_side(homography, code_box)
    radius = max(side * side_fraction / 2, 1.0)
    angle = rng.uniform(0, np.pi)
    squash = rng.uniform(0.4, 1.0)
    light = np.zeros((height, width, 1), np.float32)
    reach = int(radius * 3) + 1  # exp(-9): nothing beyond
    x0, x1 = max(int(cx) - reach, 0), min(int(cx) + reach, width)
    y0, y1 = max(int(cy) - reach, 0), min(int(cy) + reach, height)
    if x0 >= x1 or y0 >= y1:
        return light
    ys, xs = _grid(width, height)
    dx, dy = xs[y0:y1, x0:x1] - cx, ys[y0:y1, x0:x1] - cy
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / radius
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / (radius * squash)
    light[y0:y1, x0:x1, 0] = peak * np.exp(-(u**2 + v**2))
    return light


def _sheen(
    rng: np.random.Generator,
    homography: npt.NDArray[Any],
    code_box: tuple[float, float, float],
    peak: float,
) -> npt.NDArray[Any]:
    """A broad soft band of reflected light crossing the screen at a random angle."""
    width, height = FRAME_SIZE
    code_x, code_y, code_side = code_box
    centre = np.array([[[code_x + code_side / 2, code_y + code_side / 2]]])
    ((cx, cy),) = cv2.perspectiveTransform(centre, homography)[0]
    side = _projected_side(homography, code_box)
    angle = rng.uniform(0, np.pi)
    offset = rng.uniform(-0.6, 0.6) * side
    ys, xs = _grid(width, height)
    distance = (xs - cx) * np.cos(angle) + (ys - cy) * np.sin(angle) - offset
    band = np.exp(-((distance / np.float32(0.4 * side)) ** 2))
    light: Image = (np.float32(peak) * band)[:, :, None]
    return light


def _projected_side(homography: npt.NDArray[Any], code_box: tuple[float, float, float]) -> float:
    """The mean length, in frame pixels, of the code's four sides after the pose."""
    x, y, side = code_box
    corners = np.array([[[x, y], [x + side, y], [x + side, y + side], [x, y + side]]])
    projected = cv2.perspectiveTransform(corners, homography)[0]
    edges = np.linalg.norm(projected - np.roll(projected, 1, axis=0), axis=1)
    return float(edges.mean())


def _motion_blur(image: Image, length: int, angle: float) -> Image:
    kernel: Image = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    turn = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle, 1.0)
    turned: Image = cv2.warpAffine(kernel, turn, (length, length))
    blurred: Image = cv2.filter2D(image, -1, turned / max(float(turned.sum()), 1e-6))
    return blurred


def phone_screens(
    count: int, seed: int = DEFAULT_SEED, conditions: Conditions = GATE
) -> Iterator[PhoneScreen]:
    """The first ``count`` frames of the set ``seed`` under ``conditions``."""
    for index in range(count):
        yield render(index, seed, conditions)
