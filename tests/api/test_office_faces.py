"""The person page's face section over HTTP: consent first, real photos through the quality
gate, a clear message per refusal in Chinese and English, thumbnails for staff who may see
the person, withdrawal deleting everything; no template in an export or the district feed."""

from __future__ import annotations

import base64
import dataclasses
import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select, update

from api.web.office_faces import PHOTO_PATH
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.runtime.bootstrap import Services, build_gate
from recognition.faces.enrolment import PhotoEnroller
from recognition.faces.quality import QualityLimits
from registry.models import FaceTemplate, Person
from tests.api.test_office_support import (
    RESIDENT_A,
    Compound,
    app_client,
    audits,
    csrf,
    populate,
    sign_in,
)
from tests.conftest import shared_data
from tests.face_assessment import record_assessment

AGEITGEY = "faces/ageitgey-face_recognition"
OBAMA = f"{AGEITGEY}/examples/obama.jpg"


def photo(relative: str = OBAMA) -> bytes:
    return shared_data(relative).read_bytes()


@pytest.fixture
def compound(services: Services) -> Compound:
    # The engine in this process: the worker path is the default's (one test below).
    local = PhotoEnroller(QualityLimits(), in_process=True)
    record_assessment(services.units)
    return populate(dataclasses.replace(services, face_enroller=local))


@pytest.fixture
def office(compound: Compound) -> Iterator[TestClient]:
    with app_client(compound.services) as client:
        sign_in(client, "office")
        yield client


def consent(client: TestClient, ref: str, **form: str) -> object:
    data = {"csrf_token": csrf(client), "consented_by": "王小明本人", **form}
    return client.post(f"/office/persons/{ref}/faces/consent", data=data)


def upload(client: TestClient, ref: str, data: bytes, name: str = "face.jpg") -> object:
    return client.post(
        PHOTO_PATH,
        data={"csrf_token": csrf(client), "person": ref},
        files={"photo": (name, data, "image/jpeg")},
    )


def templates(services: Services) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(FaceTemplate)) or 0)


def test_consent_upload_thumbnail_and_withdrawal(office: TestClient, compound: Compound) -> None:
    services = compound.services
    page = office.get(f"/office/persons/{compound.wang}").text
    assert "人脸识别" in page
    assert 'id="face-consent-form"' in page
    assert "2026-01" in page  # the notice version shown
    assert 'id="face-upload"' not in page  # no upload before consent

    response = consent(office, compound.wang)
    assert response.status_code == 303  # type: ignore[attr-defined]
    response = upload(office, compound.wang, photo())
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    assert response.headers["location"].endswith("?done=face_enrolled#faces")  # type: ignore[attr-defined]
    upload(office, compound.wang, photo(f"{AGEITGEY}/examples/obama2.jpg"))
    assert templates(services) == 2

    page = office.get(f"/office/persons/{compound.wang}").text
    thumbs = re.findall(r'src="(/office/persons/[^"]+/faces/\d+/photo)"', page)
    assert len(thumbs) == 2
    picture = office.get(thumbs[0])
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/jpeg"
    assert picture.headers["cache-control"] == "no-store"
    assert Image.open(io.BytesIO(picture.content)).width <= 160
    # Another person's path to the same template: not found.
    assert office.get(thumbs[0].replace(compound.wang, compound.li)).status_code == 404

    with app_client(services) as guard:  # a guard has no office pages
        sign_in(guard, "guard")
        assert guard.get(thumbs[0], headers={"accept": "application/json"}).status_code == 403
    with app_client(services) as head:  # a building head outside their buildings
        sign_in(head, "head")
        assert head.get(thumbs[0]).status_code == 200
        zhao = consent(head, compound.zhao)
        assert zhao.status_code == 403  # type: ignore[attr-defined]

    response = office.post(
        f"/office/persons/{compound.wang}/faces/withdraw", data={"csrf_token": csrf(office)}
    )
    assert response.status_code == 303
    assert templates(services) == 0
    assert office.get(thumbs[0]).status_code == 404
    assert [row.detail for row in audits(services, "face.withdraw")] == [{"templates": 2}]


@pytest.mark.parametrize(
    ("make", "zh", "en"),
    [
        ("no_face", "照片中没有找到人脸", "No face found"),
        ("two_people", "照片中有 2 张人脸", "2 faces in the photo"),
        ("corrupt", "图片已损坏", "damaged"),
        ("not_an_image", "文件不是图片", "not a picture"),
        ("thirty_mb", "照片不能超过 20 MB", "at most 20 MB"),
        ("alpha", "图片含透明区域", "transparent areas"),
        ("blurred", "照片模糊", "blurred"),
        ("tiny", "人脸太小", "too small"),
    ],
)
def test_every_refused_photo_says_why(
    office: TestClient, compound: Compound, make: str, zh: str, en: str
) -> None:
    consent(office, compound.wang)
    obama = photo()
    rgb = np.asarray(Image.open(io.BytesIO(obama)).convert("RGB"))
    if make == "no_face":
        data = _jpeg(rgb[:60, :200])
    elif make == "two_people":
        data = photo(f"{AGEITGEY}/examples/two_people.jpg")
    elif make == "corrupt":
        data = obama[: len(obama) // 2]
    elif make == "not_an_image":
        data = b"%PDF-1.4 " + bytes(300)
    elif make == "thirty_mb":
        data = obama + bytes(30 * 1024 * 1024)
    elif make == "alpha":
        rgba = Image.open(io.BytesIO(obama)).convert("RGBA")
        rgba.putalpha(Image.new("L", rgba.size, 128))
        out = io.BytesIO()
        rgba.save(out, "PNG")
        data = out.getvalue()
    elif make == "blurred":
        data = _jpeg(cv2.GaussianBlur(rgb, (0, 0), 6))
    else:
        data = _jpeg(cv2.resize(rgb, (rgb.shape[1] // 4, rgb.shape[0] // 4)))
    response = upload(office, compound.wang, data)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert zh in response.text  # type: ignore[attr-defined]
    office.cookies.set("gate_lang", "en")
    response = upload(office, compound.wang, data)
    assert en in response.text  # type: ignore[attr-defined]
    assert templates(compound.services) == 0


def _jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(out, "JPEG")
    return out.getvalue()


def test_no_upload_without_consent(office: TestClient, compound: Compound) -> None:
    response = upload(office, compound.wang, photo())
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "请先登记同意" in response.text  # type: ignore[attr-defined]
    assert templates(compound.services) == 0


def test_a_child_needs_a_guardian_on_the_page(office: TestClient, compound: Compound) -> None:
    with compound.services.database.session() as session:
        session.execute(
            update(Person).where(Person.ref == compound.li).values(birth_date=date(2016, 1, 1))
        )
    page = office.get(f"/office/persons/{compound.li}").text
    assert "此人未满十四周岁" in page
    response = consent(office, compound.li, consented_by="父亲 李强")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "须由监护人同意" in response.text  # type: ignore[attr-defined]
    assert consent(office, compound.li, consented_by="父亲 李强", guardian="1").status_code == 303  # type: ignore[attr-defined]


def test_capture_without_a_camera_says_so(office: TestClient, compound: Compound) -> None:
    consent(office, compound.wang)
    response = office.post(
        f"/office/persons/{compound.wang}/faces/capture",
        data={"csrf_token": csrf(office), "lane": "main"},
    )
    assert response.status_code == 422
    assert "通道 main 没有摄像头" in response.text


def test_the_default_enroller_works_in_a_worker_process(services: Services) -> None:
    compound = populate(services)
    record_assessment(services.units)
    with app_client(services) as client:
        sign_in(client, "office")
        consent(client, compound.wang)
        assert upload(client, compound.wang, photo()).status_code == 303  # type: ignore[attr-defined]
    assert templates(services) == 1


def test_no_template_in_the_export_or_the_district_feed(
    office: TestClient, compound: Compound
) -> None:
    services = compound.services
    consent(office, compound.wang)
    upload(office, compound.wang, photo())
    ((template_id, _ref, template),) = services.face_store.active_templates()
    with services.database.session() as session:
        row = session.get(FaceTemplate, template_id)
        assert row is not None
        stored = [row.template_cipher, row.photo_cipher or b""]
    _ref, thumbnail = services.face_store.photo(template_id)
    assert thumbnail
    secrets = [template, thumbnail, *stored]
    forms = [form for secret in secrets for form in _spellings(secret)]

    gate = build_gate(services)
    credential = Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, RESIDENT_A)
    )
    gate.pipeline.process(credential, lane="main", direction=Direction.OUT)
    key = create_api_key(
        CreateApiKey(name="district-feed", scopes=("passages:read",)),
        actor=Actor(name="admin", origin="test", at=datetime.now(UTC)),
        units=services.units,
    ).text
    bodies = [
        office.get("/office/export?format=csv&reveal=1").content,
        office.get("/office/export?format=xlsx&reveal=1").content,
    ]
    for accept in ("application/json", "application/x-ndjson", "text/csv"):
        answer = office.get(
            "/api/v1/passages?limit=100",
            headers={"Authorization": f"Bearer {key}", "Accept": accept},
        )
        assert answer.status_code == 200, answer.text
        bodies.append(answer.content)
    assert RESIDENT_A.encode() in bodies[0]  # the export is the revealing one
    assert b"items" in bodies[2]
    for body in bodies:
        for form in forms:
            assert form not in body


def _spellings(secret: bytes) -> list[bytes]:
    """A secret as raw bytes, hex and base64 (any 16-byte stretch of each)."""
    middle = secret[16:48]
    return [
        middle,
        middle.hex().encode(),
        base64.b64encode(secret)[20:60],
        base64.urlsafe_b64encode(secret)[20:60],
    ]


def test_no_template_reaches_a_log(
    office: TestClient, compound: Compound, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    consent(office, compound.wang)
    upload(office, compound.wang, photo())
    upload(office, compound.wang, photo(f"{AGEITGEY}/examples/two_people.jpg"))  # refused
    ((_id, _ref, template),) = compound.services.face_store.active_templates()
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    for form in _spellings(template):
        assert form.decode("latin-1") not in logged
    assert str(np.frombuffer(template, "<f4")[:3])[1:20] not in logged
