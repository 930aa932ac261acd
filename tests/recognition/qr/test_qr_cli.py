"""``gate qr decode`` on several images at once, a damaged one among them; and ``read_image``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno
from typer.testing import CliRunner

from gate.runtime.cli import app
from recognition.qr import ImageUnreadable, build_decoder, read_image
from tests.recognition.qr.phone_screens import render


@pytest.fixture
def runner() -> CliRunner:
    """A runner for the ``gate`` app in this process."""
    return CliRunner()


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    """A clean code, a phone photo (JPEG), a picture with no code, a damaged and a missing file."""
    clean = tmp_path / "clean.png"
    segno.make("GP1:CLEAN 1", error="m", micro=False, boost_error=False).save(str(clean), scale=6)
    phone = tmp_path / "phone.jpg"
    screen = render(5)
    cv2.imwrite(str(phone), screen.frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    blank = tmp_path / "no-code.png"
    cv2.imwrite(str(blank), render(5, with_code=False).frame)
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(clean.read_bytes()[:40])  # the header and half a chunk
    return {
        "clean": clean,
        "phone": phone,
        "no-code": blank,
        "damaged": damaged,
        "missing": tmp_path / "missing.png",
        "phone-text": Path(screen.text),  # not a file: what the phone's code says
    }


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines()]


def test_one_json_line_per_image_and_a_damaged_file_does_not_stop_the_rest(
    runner: CliRunner, images: dict[str, Path]
) -> None:
    order = ["damaged", "clean", "missing", "phone", "no-code"]
    result = runner.invoke(app, ["qr", "decode", "--json", *[str(images[name]) for name in order]])
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [
        {"image": str(images["damaged"]), "codes": [], "error": "not_an_image"},
        {"image": str(images["clean"]), "codes": ["GP1:CLEAN 1"]},
        {"image": str(images["missing"]), "codes": [], "error": "not_found"},
        {"image": str(images["phone"]), "codes": [str(images["phone-text"])]},
        {"image": str(images["no-code"]), "codes": []},
    ]


@pytest.mark.parametrize("decoder", ["zxing-cpp", "pyzbar", "combined"])
def test_each_decoder_can_be_chosen(
    runner: CliRunner, images: dict[str, Path], decoder: str
) -> None:
    result = runner.invoke(
        app, ["qr", "decode", "--json", "--decoder", decoder, str(images["clean"])]
    )
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [{"image": str(images["clean"]), "codes": ["GP1:CLEAN 1"]}]


def test_a_real_photo_decodes(runner: CliRunner, blackbox_root: Path) -> None:
    photo = blackbox_root / "qrcode-2" / "33.png"  # a Shift-JIS payload with control characters
    result = runner.invoke(app, ["qr", "decode", "--json", str(photo)])
    assert result.exit_code == 0, result.output
    expected = photo.with_suffix(".txt").read_bytes().decode("utf-8")
    assert lines(result.stdout) == [{"image": str(photo), "codes": [expected]}]


def test_plain_output_says_what_each_image_holds(
    runner: CliRunner, images: dict[str, Path]
) -> None:
    result = runner.invoke(
        app, ["qr", "decode", str(images["clean"]), str(images["no-code"]), str(images["damaged"])]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{images['clean']}: GP1:CLEAN 1",
        f"{images['no-code']}: no code",
    ]
    assert f"{images['damaged']}: error: not_an_image" in result.stderr


def test_no_image_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["qr", "decode", "--json"])
    assert result.exit_code != 0
    assert "Missing argument" in result.output


def test_an_unknown_decoder_is_one_error(runner: CliRunner, images: dict[str, Path]) -> None:
    result = runner.invoke(app, ["qr", "decode", "--decoder", "zbarcam", str(images["clean"])])
    assert result.exit_code != 0
    assert "no QR decoder 'zbarcam'" in str(result.exception)


# --- read_image -------------------------------------------------------------------------


def test_transparency_is_laid_on_white(tmp_path: Path) -> None:
    path = tmp_path / "transparent.png"
    modules = np.array(segno.make("GP1:ALPHA", micro=False, boost_error=False).matrix, dtype=bool)
    big = np.kron(np.pad(modules, 4), np.ones((8, 8), dtype=bool))
    rgba = np.zeros((*big.shape, 4), np.uint8)  # black everywhere, opaque only on dark modules
    rgba[:, :, 3] = np.where(big, 255, 0)
    cv2.imwrite(str(path), rgba)
    image = read_image(path)
    assert image.shape == (*big.shape, 3)
    assert [code.text for code in build_decoder().decode(image)] == ["GP1:ALPHA"]


def test_sixteen_bit_pictures_are_read_as_eight(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    modules = np.array(segno.make("GP1:DEEP", micro=False, boost_error=False).matrix, dtype=bool)
    grey = np.where(np.kron(np.pad(modules, 4), np.ones((6, 6), dtype=bool)), 0, 65535)
    cv2.imwrite(str(path), grey.astype(np.uint16))
    image = read_image(path)
    assert image.dtype == np.uint8
    assert [code.text for code in build_decoder().decode(image)] == ["GP1:DEEP"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "not_found"),
        (b"", "not_an_image"),
        (b"GIF89a not really", "not_an_image"),
        ("dir", "unreadable"),
    ],
    ids=["missing", "empty", "garbage", "a-directory"],
)
def test_unreadable_files_raise_one_error_with_the_reason(
    tmp_path: Path, content: bytes | str | None, reason: str
) -> None:
    path = tmp_path / "picture.png"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(ImageUnreadable) as caught:
        read_image(path)
    assert caught.value.reason == reason
    assert caught.value.path == path
