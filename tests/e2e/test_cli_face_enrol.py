"""`gate face enroll` and `gate face delete`, run as the real command on real photos: the
consent recorded first, one line per image, refused images named with their reason while
the rest are enrolled, withdrawal deleting every template."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from gate.runtime.bootstrap import Services
from registry.models import AuditEvent, FaceConsent, FaceTemplate
from tests.api.test_office_support import RESIDENT_A, populate
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import gate
from tests.recognition.faces.conftest import AGEITGEY, photo


def count(services: Services, model: object) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


@pytest.mark.slow
def test_enroll_then_delete_from_the_command_line(services: Services, tmp_path: Path) -> None:
    compound = populate(services)
    env = env_of(services)
    good = photo(f"{AGEITGEY}/examples/obama.jpg")
    second = photo(f"{AGEITGEY}/examples/obama2.jpg")
    two = photo(f"{AGEITGEY}/examples/two_people.jpg")
    tiny_path = tmp_path / "tiny.jpg"
    image = Image.open(good)
    image.resize((image.width // 4, image.height // 4)).save(tiny_path, "JPEG")
    missing = tmp_path / "missing.jpg"

    # The impact assessment first, from the command line too.
    listed = gate(env, "face", "assessments")
    assert "no impact assessment recorded: face enrolment is refused" in listed.stdout
    assessed = gate(
        env,
        "face",
        "assess",
        "--on",
        "2026-11-02",
        "--by",
        "数据保护负责人",
        "--reference",
        "PIA-2026-07, kept in the office safe",
        "--scope",
        "main lane camera, residents who consent",
    )
    assert assessed.returncode == 0, assessed.stderr
    assert "faces may be enrolled" in assessed.stdout
    assert "PIA-2026-07" in gate(env, "face", "assessments").stdout

    # No consent in force and nobody named: refused before any image is read.
    done = gate(env, "face", "enroll", "--person", RESIDENT_A, str(good))
    assert done.returncode == 1
    assert "required" in done.stderr
    assert count(services, FaceTemplate) == 0

    done = gate(
        env,
        "face",
        "enroll",
        "--person",
        RESIDENT_A,  # a document number works as the person
        "--consent-by",
        "王小明本人",
        str(good),
        str(two),
        str(tiny_path),
        str(missing),
        str(second),
    )
    assert done.returncode == 1, done.stderr  # some were refused
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"consent recorded for {compound.wang}: 王小明本人")
    assert lines[1].startswith(f"{good}: enrolled as template ")
    assert lines[2] == f"{two}: refused: face several faces (faces=2)"
    assert lines[3].startswith(f"{tiny_path}: refused: face too small (face_px=")
    assert lines[4].startswith(f"{missing}: refused: unreadable")
    assert lines[5].startswith(f"{second}: enrolled as template ")
    assert len(lines) == 6
    assert count(services, FaceTemplate) == 2
    assert RESIDENT_A not in done.stdout + done.stderr

    # Consent in force: not recorded again.
    again = gate(env, "face", "enroll", "--person", compound.wang, str(good))
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("\n") == 1
    assert count(services, FaceConsent) == 1

    deleted = gate(env, "face", "delete", "--person", compound.wang)
    assert deleted.returncode == 0, deleted.stderr
    assert (
        deleted.stdout.strip()
        == f"consent of {compound.wang} withdrawn; 3 face template(s) deleted"
    )
    assert count(services, FaceTemplate) == 0
    with services.database.session() as session:
        actions = [
            row.action for row in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
        targets = [row.target for row in session.scalars(select(AuditEvent))]
    assert actions.count("face.enrol") == 3
    assert actions.count("face.withdraw") == 1
    assert all(RESIDENT_A not in target for target in targets)
    assert gate(env, "face", "delete", "--person", compound.wang).returncode == 1


def test_enroll_is_refused_until_an_impact_assessment_is_recorded(services: Services) -> None:
    populate(services)
    env = env_of(services)
    good = photo(f"{AGEITGEY}/examples/obama.jpg")
    done = gate(
        env, "face", "enroll", "--person", RESIDENT_A, "--consent-by", "王小明本人", str(good)
    )
    assert done.returncode == 1
    assert f"{good}: refused: face assessment missing" in done.stdout
    assert count(services, FaceTemplate) == 0
    with services.database.session() as session:
        refusal = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "action.refused")
        ).all()
    assert [row.detail.get("reason") for row in refusal] == ["face_assessment_missing"]
