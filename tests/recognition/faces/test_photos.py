"""Enrolment photos that cannot be used give a clear, typed error; the rest give a template."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from PIL import Image

from gate.domain.errors import FaceImageRejected, NoSingleFace
from recognition.faces.engine import FaceEngine
from recognition.faces.images import MAX_PHOTO_BYTES, read_photo
from tests.recognition.faces.conftest import AGEITGEY, photo

OBAMA = f"{AGEITGEY}/examples/obama.jpg"


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def rejected(face_engine: FaceEngine, data: bytes) -> FaceImageRejected:
    with pytest.raises(FaceImageRejected) as caught:
        face_engine.template_of(data)
    return caught.value


def test_a_portrait_gives_one_template(face_engine: FaceEngine) -> None:
    template = face_engine.template_of(photo(OBAMA).read_bytes())
    assert len(template) == 512
    assert 0.5 < float(np.linalg.norm(np.frombuffer(template, "<f4"))) < 1.5


def test_a_photo_without_a_face(face_engine: FaceEngine) -> None:
    scene = Image.open(photo(f"{AGEITGEY}/examples/knn_examples/test/obama_and_biden.jpg"))
    background = scene.crop((0, 0, 600, 400))  # the flags behind them, no one in it
    error = rejected(face_engine, encoded(background, "JPEG"))
    assert isinstance(error, NoSingleFace)
    assert error.reason == "no_face"


def test_a_photo_of_two_people(face_engine: FaceEngine) -> None:
    error = rejected(face_engine, photo(f"{AGEITGEY}/examples/two_people.jpg").read_bytes())
    assert isinstance(error, NoSingleFace)
    assert (error.reason, error.params) == ("several_faces", {"faces": 2})


def test_corrupt_files(face_engine: FaceEngine) -> None:
    jpeg = photo(OBAMA).read_bytes()
    assert rejected(face_engine, jpeg[: len(jpeg) // 2]).reason == "damaged"  # truncated
    assert rejected(face_engine, b"\x89PNG\r\n\x1a\n" + bytes(500)).reason == "not_an_image"
    assert rejected(face_engine, bytes(range(256)) * 40).reason == "not_an_image"
    assert rejected(face_engine, b"").reason == "not_an_image"


def test_a_30_mb_file_is_refused_before_decoding(face_engine: FaceEngine) -> None:
    jpeg = photo(OBAMA).read_bytes()
    data = jpeg + bytes(30 * 1024 * 1024 - len(jpeg))  # a valid JPEG, padded to 30 MB
    error = rejected(face_engine, data)
    assert error.reason == "too_large"
    assert error.params == {"bytes": 30 * 1024 * 1024, "limit": MAX_PHOTO_BYTES}


def test_a_small_file_declaring_a_huge_picture_is_refused() -> None:
    bomb = encoded(Image.new("L", (12_000, 10_000)), "PNG")  # 120 MP in a few hundred kB
    assert len(bomb) < MAX_PHOTO_BYTES
    with pytest.raises(FaceImageRejected) as caught:
        read_photo(bomb)
    assert caught.value.reason == "too_many_pixels"


def test_a_png_with_transparent_pixels_is_refused(face_engine: FaceEngine) -> None:
    rgba = Image.open(photo(OBAMA)).convert("RGBA")
    alpha = Image.new("L", rgba.size, 255)
    alpha.paste(0, (0, 0, rgba.width // 4, rgba.height // 4))  # a transparent corner
    rgba.putalpha(alpha)
    error = rejected(face_engine, encoded(rgba, "PNG"))
    assert error.reason == "alpha_channel"
    assert not isinstance(error, NoSingleFace)


def test_an_opaque_alpha_channel_is_dropped(face_engine: FaceEngine) -> None:
    # face_recognition's own 32-bit test image: RGBA, every pixel opaque.
    rgb = read_photo(photo(f"{AGEITGEY}/tests/test_images/32bit.png").read_bytes())
    assert rgb.shape[2] == 3
    assert len(face_engine.photo_faces(rgb)) == 1


def test_the_exif_orientation_is_applied() -> None:
    upright = Image.open(photo(OBAMA)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: "rotate 90 degrees clockwise to view"
    turned = upright.transpose(Image.Transpose.ROTATE_90)
    out = io.BytesIO()
    turned.save(out, "JPEG", exif=exif)
    assert read_photo(out.getvalue()).shape[:2] == (upright.height, upright.width)


def test_refusals_survive_the_trip_back_from_a_worker() -> None:
    error = NoSingleFace("several_faces", "2 faces in the photo; one is needed", faces=2)
    again = pickle.loads(pickle.dumps(error))  # noqa: S301  (our own bytes)
    assert type(again) is NoSingleFace
    assert (again.reason, again.params, str(again)) == (error.reason, {"faces": 2}, str(error))
