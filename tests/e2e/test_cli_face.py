"""`gate face identify` and `gate face eval`, run as the real command on the real photos of
../shared/data/faces: residents enrolled through the face store, a stranger left out."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gate.app.actor import Actor
from gate.app.face_ports import EnrolmentFace
from gate.runtime.bootstrap import Services
from recognition.faces.engine import FaceEngine
from recognition.faces.images import MAX_PHOTO_BYTES
from tests.api.test_office_support import Compound, populate
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import gate
from tests.recognition.faces.conftest import AGEITGEY, DEEPFACE, FACENET, photo

TRAIN = f"{AGEITGEY}/examples/knn_examples/train"
OFFICE = Actor("office", "test", datetime(2026, 12, 1, 2, 0, tzinfo=UTC))


def enrol(services: Services, engine: FaceEngine, ref: str, relative: str) -> None:
    """One template of ``ref`` from a photo, with the consent recorded first."""
    template = engine.template_of(photo(relative).read_bytes())
    with services.units(OFFICE) as uow:
        consent = uow.faces.record_consent(
            ref, consented_by="本人", guardian=False, notice_version="2026-01"
        )
        uow.faces.add_template(
            ref, consent_id=consent.id, face=EnrolmentFace(template, b""), source="upload"
        )
        uow.commit()


@pytest.fixture
def enrolled(services: Services, face_engine: FaceEngine) -> Compound:
    """Obama, Biden and Kit Harington enrolled as residents; Rose Leslie is a stranger."""
    compound = populate(services)
    enrol(services, face_engine, compound.wang, f"{TRAIN}/obama/obama.jpg")
    enrol(services, face_engine, compound.li, f"{TRAIN}/biden/biden.jpg")
    enrol(services, face_engine, compound.zhang, f"{TRAIN}/kit_harington/john1.jpeg")
    return compound


@pytest.fixture(scope="module")
def face_engine() -> FaceEngine:
    return FaceEngine()


def identify(services: Services, *images: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    done = gate(env_of(services), "face", "identify", *map(str, images), "--json")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(image) for image in images], done.stderr
    return done.returncode, {Path(line["image"]).name: line for line in lines}


def faces_of(line: dict[str, Any]) -> list[tuple[str, str | None]]:
    faces = line["faces"]
    assert isinstance(faces, list)
    return [(face["band"], face["person"]) for face in faces]


@pytest.mark.slow
def test_residents_are_matched_and_a_stranger_never_is(enrolled: Compound) -> None:
    images = [
        photo(f"{TRAIN}/obama/obama2.jpg"),
        photo(f"{TRAIN}/biden/biden2.jpg"),
        photo(f"{TRAIN}/kit_harington/john2.jpeg"),
        photo(f"{TRAIN}/rose_leslie/img1.jpg"),
        photo(f"{TRAIN}/rose_leslie/img2.jpg"),
        photo(f"{FACENET}/lfw_subset_pr912/Yao_Ming/Yao_Ming_0001.jpg"),
        photo(f"{DEEPFACE}/img1.jpg"),
    ]
    code, lines = identify(enrolled.services, *images)
    assert code == 0
    assert faces_of(lines["obama2.jpg"]) == [("match", enrolled.wang)]
    assert faces_of(lines["biden2.jpg"]) == [("match", enrolled.li)]
    assert faces_of(lines["john2.jpeg"]) == [("match", enrolled.zhang)]
    for stranger in ["img1.jpg", "img2.jpg", "Yao_Ming_0001.jpg"]:
        [(band, _person)] = faces_of(lines[stranger])
        assert band in {"unknown", "uncertain"}, (stranger, lines[stranger])
    face = lines["obama2.jpg"]["faces"][0]
    assert len(face["box"]) == 4
    assert 0 < face["distance"] < 0.6


@pytest.mark.slow
def test_every_face_of_a_multi_face_photo_is_identified(enrolled: Compound) -> None:
    code, lines = identify(
        enrolled.services,
        photo(f"{AGEITGEY}/examples/two_people.jpg"),
        photo(f"{AGEITGEY}/examples/knn_examples/test/obama_and_biden.jpg"),
    )
    assert code == 0
    assert sorted(faces_of(lines["two_people.jpg"])) == sorted(
        [("match", enrolled.wang), ("match", enrolled.li)]
    )
    three = faces_of(lines["obama_and_biden.jpg"])  # and a girl in front of them
    assert len(three) == 3
    assert ("match", enrolled.wang) in three
    assert ("match", enrolled.li) in three
    assert [band for band, person in three if person not in {enrolled.wang, enrolled.li}] in (
        ["unknown"],
        ["uncertain"],
    )


@pytest.mark.slow
def test_bad_images_are_named_with_their_reason_and_the_others_still_identified(
    enrolled: Compound, tmp_path: Path
) -> None:
    obama = photo(f"{TRAIN}/obama/obama2.jpg")
    jpeg = obama.read_bytes()
    scene = Image.open(photo(f"{AGEITGEY}/examples/knn_examples/test/obama_and_biden.jpg"))
    wall = io.BytesIO()
    scene.crop((0, 0, 600, 400)).save(wall, "JPEG")  # the flags behind them, no one in it
    (tmp_path / "wall.jpg").write_bytes(wall.getvalue())
    (tmp_path / "corrupt.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (tmp_path / "noise.jpg").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "huge.jpg").write_bytes(jpeg + bytes(30 * 1024 * 1024 - len(jpeg)))
    assert (tmp_path / "huge.jpg").stat().st_size > MAX_PHOTO_BYTES
    rgba = Image.open(obama).convert("RGBA")
    alpha = Image.new("L", rgba.size, 255)
    alpha.paste(0, (0, 0, rgba.width // 4, rgba.height // 4))
    rgba.putalpha(alpha)
    rgba.save(tmp_path / "alpha.png")
    names = ["wall.jpg", "corrupt.jpg", "noise.jpg", "huge.jpg", "alpha.png", "missing.jpg"]
    code, lines = identify(enrolled.services, *[tmp_path / n for n in names], obama)
    assert code == 1
    assert {name: lines[name].get("error") for name in names} == {
        "wall.jpg": "no_face",
        "corrupt.jpg": "damaged",
        "noise.jpg": "not_an_image",
        "huge.jpg": "too_large",
        "alpha.png": "alpha_channel",
        "missing.jpg": "unreadable",
    }
    assert lines["wall.jpg"]["faces"] == []
    assert faces_of(lines["obama2.jpg"]) == [("match", enrolled.wang)]


@pytest.mark.slow
def test_an_empty_gallery_makes_everyone_unknown(services: Services) -> None:
    code, lines = identify(services, photo(f"{TRAIN}/obama/obama2.jpg"))
    assert code == 0
    [face] = lines["obama2.jpg"]["faces"]
    assert (face["band"], face["person"], face["distance"]) == ("unknown", None, None)


@pytest.mark.slow
def test_eval_prints_the_report_at_the_configured_thresholds(services: Services) -> None:
    env = env_of(services)
    done = gate(env, "face", "eval", str(photo(f"{FACENET}/lfw_subset_pr912")), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    settings = services.settings.faces
    assert report["thresholds"] == {
        "strict": settings.strict,
        "loose": settings.loose,
        "margin": settings.margin,
    }
    assert (report["images"], report["identities"], report["strangers"]) == (29, 4, 1)
    assert report["stranger_accepts"] == 0
    assert report["rank1"] == 1.0
    assert report["failed"] == {}
    assert "outcomes" not in report
    tight = gate(env, "face", "eval", str(photo(f"{FACENET}/lfw_subset_pr912")), "--strict", "0.2")
    assert tight.returncode == 0, tight.stderr
    assert "thresholds: strict 0.2," in tight.stdout
    assert "TAR 0.0%" in tight.stdout
    bad = gate(env, "face", "eval", str(photo(FACENET)), "--strict", "0.7", "--loose", "0.6")
    assert bad.returncode == 2
    assert "strict <= loose" in bad.stderr
