"""The accuracy evaluation: labels from folders, names and pairs; the open-set figures, on
made-up templates and on the real photos of ../shared/data/faces."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gate.domain.faces import FaceThresholds
from recognition.faces.engine import FaceEngine
from recognition.faces.evaluation import (
    LabelledPhoto,
    Probe,
    encode_photos,
    evaluate,
    folder_photos,
    identity_from_name,
    labelled_sources,
    paired_photos,
    stranger_identities,
)
from tests.recognition.faces.conftest import AGEITGEY, DEEPFACE, FACENET, photo

# The labelled sets: every photo in them is of the person its label says.
LABELLED_SETS = [
    f"{AGEITGEY}/examples/knn_examples/train",
    f"{FACENET}/lfw_subset_pr912",
    f"{FACENET}/data_images",
    f"{DEEPFACE}/master.csv",
]


def test_identities_from_file_names() -> None:
    assert identity_from_name("Bill_Gates_0003") == "Bill_Gates"
    assert identity_from_name("obama2") == "obama"
    assert identity_from_name("obama") == "obama"
    assert identity_from_name("alex-lacamoire") == "alex-lacamoire"
    assert identity_from_name("0042") == "0042"  # nothing but a number: the name itself


def test_folders_name_their_photos_and_a_flat_folder_names_them_by_file(tmp_path: Path) -> None:
    for name in ["ann/a.jpg", "ann/b.JPG", "bob/1.png", "notes.txt", "cy_0001.jpg", "cy_0002.jpg"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    labelled = {
        (p.path.relative_to(tmp_path).as_posix(), p.identity) for p in folder_photos(tmp_path)
    }
    assert labelled == {
        ("ann/a.jpg", "ann"),
        ("ann/b.JPG", "ann"),
        ("bob/1.png", "bob"),
        ("cy_0001.jpg", "cy"),
        ("cy_0002.jpg", "cy"),
    }


def test_pairs_make_identities_of_connected_yes_pairs(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "file_x,file_y,Decision\n"
        "img10.jpg,img2.jpg,Yes\nimg2.jpg,img3.jpg,Yes\nimg3.jpg,img4.jpg,No\nimg4.jpg,img5.jpg,Yes\n"
    )
    labelled = [(p.path.name, p.identity) for p in paired_photos(tmp_path, pairs)]
    assert labelled == [
        ("img2.jpg", "img2"),
        ("img3.jpg", "img2"),
        ("img4.jpg", "img4"),
        ("img5.jpg", "img4"),
        ("img10.jpg", "img2"),
    ]


def test_several_sources_keep_their_identities_apart(tmp_path: Path) -> None:
    for name in ["one/ann/a.jpg", "two/ann/a.jpg"]:
        (tmp_path / name).parent.mkdir(parents=True)
        (tmp_path / name).write_bytes(b"")
    pooled = labelled_sources([tmp_path / "one", tmp_path / "two"])
    assert sorted(p.identity for p in pooled) == ["one/ann", "two/ann"]


def test_every_third_identity_is_a_stranger_and_the_offsets_cover_each_once() -> None:
    names = [f"p{i:02d}" for i in range(9)]
    assert stranger_identities(names, 1 / 3) == {"p02", "p05", "p08"}
    covered = [stranger_identities(names, 1 / 3, offset) for offset in range(3)]
    assert sorted(n for group in covered for n in group) == names
    assert stranger_identities(names, 0) == set()


def _probes(seed: int = 7) -> list[Probe]:
    """Five persons, three photos each: a person's photos lie 0.3 apart, persons ~1.4 apart."""
    rng = np.random.default_rng(seed)
    probes = []
    for person in range(5):
        centre = rng.normal(0, 0.1, 128)
        for shot in range(3):
            vector = centre + rng.normal(0, 0.3 / np.sqrt(2 * 128), 128)
            path = Path(f"/photos/p{person}/{shot}.jpg")
            template = vector.astype("<f4").tobytes()
            probes.append(Probe(LabelledPhoto(path, f"p{person}"), template, faces=1))
    probes.append(Probe(LabelledPhoto(Path("/photos/p0/broken.jpg"), "p0"), None, "damaged"))
    probes.append(Probe(LabelledPhoto(Path("/photos/p1/wall.jpg"), "p1"), None, "no_face"))
    return probes


def test_the_open_set_figures_on_made_up_templates() -> None:
    report = evaluate(_probes(), FaceThresholds(0.5, 0.6, 0.06))
    assert (report.images, report.identities, report.enrolled, report.strangers) == (17, 5, 4, 1)
    assert (report.genuine_probes, report.stranger_probes) == (8, 3)  # 4 x 2 left, p2's three
    assert (report.tar, report.far, report.rank1) == (1.0, 0.0, 1.0)
    assert (report.stranger_accepts, report.stranger_accept_rate) == (0, 0.0)
    assert report.failed == {"/photos/p0/broken.jpg": "damaged", "/photos/p1/wall.jpg": "no_face"}
    assert report.same_pairs == 5 * 3
    assert report.different_pairs == 15 * 14 // 2 - 15
    assert report.same_person is not None
    assert report.different_persons is not None
    assert report.same_person["p100"] < 0.5 < report.different_persons["p0"]
    # Too strict a threshold: the same persons come back uncertain, never as someone else.
    tight = evaluate(_probes(), FaceThresholds(0.1, 0.6, 0.06))
    assert (tight.tar, tight.far, tight.genuine_uncertain, tight.rank1) == (0.0, 0.0, 1.0, 1.0)
    # Loose enough to reach anyone, a stranger is still not matched to the nearest resident.
    loose = evaluate(_probes(), FaceThresholds(0.5, 1.9, 0.06))
    assert loose.stranger_accepts == 0
    assert loose.stranger_uncertain == 1.0


@pytest.fixture(scope="session")
def real_probes(face_engine: FaceEngine) -> list[Probe]:
    """Every photo of the labelled sets, encoded once (about 15 s on this machine)."""
    return encode_photos(face_engine, labelled_sources([photo(s) for s in LABELLED_SETS]))


@pytest.mark.slow
@pytest.mark.parametrize("offset", [0, 1, 2])
def test_strangers_are_never_matched_and_residents_are_found(
    real_probes: list[Probe], offset: int
) -> None:
    report = evaluate(real_probes, FaceThresholds(), offset=offset)
    assert (report.images, report.identities) == (65, 19)
    assert report.failed == {}
    assert report.stranger_probes > 0
    stranger_bands = {o.band for o in report.outcomes if o.stranger}
    assert stranger_bands <= {"unknown", "uncertain"}
    assert report.stranger_accepts == 0
    assert report.far == 0.0
    assert report.rank1 == 1.0


@pytest.mark.slow
def test_tar_at_the_default_thresholds_over_every_split(real_probes: list[Probe]) -> None:
    reports = [evaluate(real_probes, FaceThresholds(), offset=offset) for offset in range(3)]
    genuine = [o for r in reports for o in r.outcomes if not o.stranger]
    matched = [o for o in genuine if o.band == "match" and o.person == o.identity]
    assert len(genuine) == 92
    assert len(matched) / len(genuine) >= 0.95  # docs/faces.md, "Accuracy": 88 of 92
    assert not [o for o in genuine if o.band == "match" and o.person != o.identity]


@pytest.mark.slow
def test_a_multi_face_photo_is_probed_by_its_largest_face(
    face_engine: FaceEngine, real_probes: list[Probe]
) -> None:
    (vin,) = [p for p in real_probes if p.photo.path.name == "Vin_Diesel_0001.jpg"]
    assert vin.faces == 2  # with Asia Argento beside him; he is the larger face
    report = evaluate(real_probes, FaceThresholds(), offset=1)
    (outcome,) = [o for o in report.outcomes if o.image.endswith("Vin_Diesel_0002.jpg")]
    assert not outcome.stranger
    assert (outcome.band, outcome.person) == ("match", "lfw_subset_pr912/Vin_Diesel")


def test_photos_without_a_face_or_unreadable_are_named(
    face_engine: FaceEngine, tmp_path: Path
) -> None:
    obama = photo(f"{AGEITGEY}/examples/obama.jpg").read_bytes()
    (tmp_path / "obama").mkdir()
    (tmp_path / "obama" / "good.jpg").write_bytes(obama)
    (tmp_path / "obama" / "half.jpg").write_bytes(obama[: len(obama) // 2])
    wall = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 180, 160)).save(wall, "JPEG")
    (tmp_path / "obama" / "wall.jpg").write_bytes(wall.getvalue())
    probes = encode_photos(face_engine, folder_photos(tmp_path))
    report = evaluate(probes, FaceThresholds(), strangers=0)
    assert report.failed == {
        str(tmp_path / "obama" / "half.jpg"): "damaged",
        str(tmp_path / "obama" / "wall.jpg"): "no_face",
    }
    assert (report.images, report.enrolled, report.genuine_probes) == (3, 1, 0)
