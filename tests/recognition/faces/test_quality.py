"""The enrolment quality gate on real photos: ordinary frontal photos pass, a blurred, a
tiny or a turned face is refused with its reason (calibration: ``QualityLimits``)."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from gate.domain.errors import FaceQualityRefused, NoSingleFace
from recognition.faces.engine import EngineSettings, FaceEngine
from recognition.faces.enrolment import PhotoEnroller
from recognition.faces.images import read_photo
from recognition.faces.quality import FaceQuality, QualityLimits, check, measure
from tests.recognition.faces.conftest import AGEITGEY, DEEPFACE, photo

OBAMA = f"{AGEITGEY}/examples/obama.jpg"
# Ordinary frontal photos of the shared sets, from the softest and smallest that pass
# (alex-lacamoire.png: sharpness 29.6; obama-480p: 65 px) to a 3,061 px wide one.
ORDINARY = [
    OBAMA,
    f"{AGEITGEY}/examples/alex-lacamoire.png",
    f"{AGEITGEY}/examples/obama-480p.jpg",
    f"{AGEITGEY}/examples/knn_examples/train/biden/biden2.jpg",
    f"{DEEPFACE}/img1.jpg",
    f"{DEEPFACE}/img27.jpg",
    f"{DEEPFACE}/img40.jpg",
]


def jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def refused(face_engine: FaceEngine, data: bytes) -> FaceQualityRefused:
    with pytest.raises(FaceQualityRefused) as caught:
        face_engine.enrolment_face(data)
    return caught.value


@pytest.mark.parametrize("relative", ORDINARY)
def test_ordinary_frontal_photos_pass(face_engine: FaceEngine, relative: str) -> None:
    face = face_engine.enrolment_face(photo(relative).read_bytes())
    assert len(face.template) == 512
    assert face.thumbnail[:2] == b"\xff\xd8"  # a JPEG
    assert set(face.quality) == {"face_px", "sharpness", "turn"}
    limits = QualityLimits()
    assert face.quality["face_px"] >= limits.min_face_px
    assert face.quality["sharpness"] >= limits.min_sharpness
    assert face.quality["turn"] <= limits.max_turn
    assert "template" not in repr(face)
    assert str(face.template[:4]) not in repr(face)


def test_enrolment_encodes_with_jitters_near_the_plain_template(face_engine: FaceEngine) -> None:
    data = photo(OBAMA).read_bytes()
    plain = np.frombuffer(face_engine.template_of(data), "<f4")
    jittered = np.frombuffer(face_engine.enrolment_face(data).template, "<f4")
    distance = float(np.linalg.norm(plain - jittered))
    assert 0 < distance < 0.1  # re-sampled, not a different face


def test_a_blurred_copy_is_refused(face_engine: FaceEngine) -> None:
    rgb = read_photo(photo(OBAMA).read_bytes())
    ((_top, right, _bottom, left),) = face_engine.photo_faces(rgb)
    sigma = (right - left) / 50  # 2 px at the crop's 160 px: a shaken phone
    error = refused(face_engine, jpeg(cv2.GaussianBlur(rgb, (0, 0), sigma)))
    assert error.reason == "blurred"
    assert error.params["limit"] == 25.0
    assert float(error.params["sharpness"]) < 25.0


def test_a_tiny_copy_is_refused(face_engine: FaceEngine) -> None:
    rgb = read_photo(photo(OBAMA).read_bytes())
    height, width = rgb.shape[:2]
    tiny = cv2.resize(rgb, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
    error = refused(face_engine, jpeg(tiny))
    assert error.reason == "face_too_small"
    assert int(error.params["face_px"]) < 60
    assert error.params["limit"] == 60


def test_the_240p_frame_is_too_small_and_the_limit_is_a_setting(face_engine: FaceEngine) -> None:
    data = photo(f"{AGEITGEY}/examples/obama-240p.jpg").read_bytes()
    assert refused(face_engine, data).reason == "face_too_small"
    lenient = FaceEngine(EngineSettings(quality=QualityLimits(min_face_px=30)))
    assert lenient.enrolment_face(data).quality["face_px"] == pytest.approx(33, abs=1)


def test_a_turned_face_is_refused() -> None:
    # Eyes level 100 px apart (centres), nose 30 px toward one eye: turned about 30 degrees.
    points = [(250.0, 200.0), (210.0, 200.0), (90.0, 200.0), (130.0, 200.0), (200.0, 260.0)]
    rgb = np.zeros((400, 400, 3), np.uint8)
    quality = measure(rgb, (100, 300, 300, 100), points)
    assert quality.face_px == pytest.approx(160)
    assert quality.turn == pytest.approx(0.25)
    assert measure(rgb, (100, 300, 300, 100), [*points[:4], (170.0, 250.0)]).turn == 0
    with pytest.raises(FaceQualityRefused) as caught:
        check(FaceQuality(face_px=160, sharpness=300, turn=0.3), QualityLimits())
    assert (caught.value.reason, caught.value.params) == (
        "not_frontal",
        {"turn": 0.3, "limit": 0.25},
    )


def test_size_is_checked_before_blur_and_errors_survive_a_worker() -> None:
    with pytest.raises(FaceQualityRefused) as caught:
        check(FaceQuality(face_px=20, sharpness=1, turn=0.9), QualityLimits())
    error = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert type(error) is FaceQualityRefused
    assert (error.reason, error.params) == ("face_too_small", {"face_px": 20, "limit": 60})


def test_the_gate_comes_after_the_face_count(face_engine: FaceEngine) -> None:
    with pytest.raises(NoSingleFace):
        face_engine.enrolment_face(photo(f"{AGEITGEY}/examples/two_people.jpg").read_bytes())


@pytest.mark.parametrize("in_process", [False, True])
def test_the_enroller_in_a_worker_or_in_process(in_process: bool) -> None:
    enroller = PhotoEnroller(QualityLimits(), in_process=in_process)
    data = photo(OBAMA).read_bytes()
    face = enroller.enrolment_face(data)
    assert len(face.template) == 512
    frame = cv2.cvtColor(read_photo(data), cv2.COLOR_RGB2BGR)
    assert enroller.enrolment_frame(frame).quality == face.quality
    with pytest.raises(FaceQualityRefused) as caught:  # typed across the process boundary
        enroller.enrolment_face(jpeg(cv2.GaussianBlur(read_photo(data), (0, 0), 8)))
    assert caught.value.reason == "blurred"
