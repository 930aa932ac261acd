"""Detection and encoding on the real photos of the shared face sets.

Labels: deepface's master.csv (Yes/No pairs), LFW's pairs list for the LFW subset, and
identities in file and folder names (each set's SOURCE.txt).
"""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest

from recognition.faces.engine import EngineSettings, FaceEngine, as_rgb
from recognition.faces.images import read_photo
from tests.recognition.faces.conftest import AGEITGEY, DEEPFACE, FACENET, photo
from tests.recognition.faces.reference import face_encodings, face_locations

# (photo, faces in it): every frontal face in these is of a size HOG finds.
MULTI_FACE = [
    (f"{AGEITGEY}/examples/two_people.jpg", 2),  # Obama and Biden
    (f"{AGEITGEY}/examples/knn_examples/test/obama_and_biden.jpg", 3),  # and a girl in front
    (f"{AGEITGEY}/examples/knn_examples/test/kit_with_rose.jpg", 2),
    (f"{DEEPFACE}/couple.jpg", 2),
    (f"{FACENET}/lfw_subset_pr912/Vin_Diesel/Vin_Diesel_0001.jpg", 2),  # with Asia Argento
]
SINGLE_FACE_FOLDERS = [
    f"{FACENET}/lfw_subset_pr912/Bill_Gates",
    f"{AGEITGEY}/examples/knn_examples/train/obama",
    f"{AGEITGEY}/examples/knn_examples/train/biden",
    f"{AGEITGEY}/examples/knn_examples/train/kit_harington",
    f"{AGEITGEY}/examples/knn_examples/train/rose_leslie",
]


def rgb_of(relative: str) -> np.ndarray:
    return read_photo(photo(relative).read_bytes())


def deepface_pairs() -> list[tuple[str, str, bool]]:
    with photo(f"{DEEPFACE}/master.csv").open() as lines:
        return [(r["file_x"], r["file_y"], r["Decision"] == "Yes") for r in csv.DictReader(lines)]


@pytest.mark.slow
def test_one_face_in_each_single_face_photo(face_engine: FaceEngine) -> None:
    files = [path for folder in SINGLE_FACE_FOLDERS for path in sorted(photo(folder).iterdir())]
    files += [
        photo(DEEPFACE) / name for name in sorted({x for p in deepface_pairs() for x in p[:2]})
    ]
    assert len(files) >= 50
    counts = {
        path.name: len(face_engine.photo_faces(read_photo(path.read_bytes()))) for path in files
    }
    assert {name: n for name, n in counts.items() if n != 1} == {}


@pytest.mark.parametrize(("relative", "faces"), MULTI_FACE)
def test_every_face_in_a_multi_face_photo(
    face_engine: FaceEngine, relative: str, faces: int
) -> None:
    assert len(face_engine.photo_faces(rgb_of(relative))) == faces


@pytest.mark.slow
def test_boxes_and_encodings_are_face_recognitions(face_engine: FaceEngine) -> None:
    # Without a downscale and with the same upsampling the engine makes face_recognition's
    # calls: the same boxes, and the encodings of face_encodings(model="small") as float32.
    exact = FaceEngine(EngineSettings(detect_width=10_000, upsample=1))
    for relative in (
        f"{AGEITGEY}/examples/two_people.jpg",
        f"{AGEITGEY}/examples/knn_examples/test/kit_with_rose.jpg",
    ):
        rgb = rgb_of(relative)
        boxes = exact.detect(rgb)
        assert boxes == face_locations(rgb)
        ours = exact.encode(rgb, boxes)
        theirs = face_encodings(rgb, boxes, model="small")
        assert all(e.dtype == np.float32 and e.shape == (128,) for e in ours)
        np.testing.assert_array_equal(ours, np.asarray(theirs, dtype=np.float32))


@pytest.mark.slow
def test_same_identity_closer_than_different_on_deepface_pairs(face_engine: FaceEngine) -> None:
    encoding: dict[str, np.ndarray] = {}
    for name in sorted({name for pair in deepface_pairs() for name in pair[:2]}):
        template = face_engine.template_of((photo(DEEPFACE) / name).read_bytes())
        encoding[name] = np.frombuffer(template, dtype="<f4")
    same: list[float] = []
    different: list[float] = []
    for left, right, is_same in deepface_pairs():
        distance = float(np.linalg.norm(encoding[left] - encoding[right]))
        (same if is_same else different).append(distance)
    assert (len(same), len(different)) == (38, 262)
    # Measured: same pairs up to 0.603, different pairs from 0.641.
    assert max(same) < min(different)


@pytest.mark.slow
def test_same_identity_closer_than_different_on_the_lfw_subset(face_engine: FaceEngine) -> None:
    root = photo(f"{FACENET}/lfw_subset_pr912")
    encodings = {}
    for path in sorted(root.glob("*/*.jpg")):
        rgb = read_photo(path.read_bytes())
        boxes = face_engine.photo_faces(rgb)
        if len(boxes) == 1:  # Vin_Diesel_0001 and Yao_Ming_0004 show a second face
            encodings[path] = face_engine.encode(rgb, boxes)[0]
    assert len(encodings) >= 27
    pairs = itertools.combinations(encodings, 2)
    same: list[float] = []
    different: list[float] = []
    for a, b in pairs:
        distance = float(np.linalg.norm(encodings[a] - encodings[b]))
        (same if a.parent == b.parent else different).append(distance)
    # LFW's own same-person pairs among these photos are among the same ones.
    assert max(same) < min(different)


def test_frames_are_downscaled_for_detection_and_encoded_full_size(
    face_engine: FaceEngine,
) -> None:
    full = rgb_of(f"{AGEITGEY}/examples/obama-1080p.jpg")
    bgr = np.ascontiguousarray(full[:, :, ::-1])
    faces, seconds = face_engine.frame_faces(bgr)
    assert seconds > 0
    assert len(faces) == 1
    (box, template) = faces[0]
    top, right, bottom, left = box
    assert 0 <= left < right <= full.shape[1]
    assert 0 <= top < bottom <= full.shape[0]
    assert right - left > 200  # in the 1080p frame's pixels, not the 640-wide copy's
    assert template is not None
    reference = face_engine.encode(full, [box])[0]
    assert np.array_equal(np.frombuffer(template, dtype="<f4"), reference)
    # A box already encoded enough is detected but not encoded again.
    again, _ = face_engine.frame_faces(bgr, skip=[box])
    assert again == [(box, None)]


def test_frame_colours(face_engine: FaceEngine) -> None:
    bgr = np.zeros((4, 6, 3), np.uint8)
    bgr[..., 0] = 255  # blue
    assert as_rgb(bgr)[0, 0].tolist() == [0, 0, 255]
    assert as_rgb(np.zeros((4, 6), np.uint8)).shape == (4, 6, 3)
    with pytest.raises(ValueError, match="uint8"):
        as_rgb(np.zeros((4, 6), np.float32))
    assert face_engine.frame_faces(np.zeros((480, 640, 3), np.uint8))[0] == []
