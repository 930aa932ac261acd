"""Face enrolment use cases: consent first and separately, a guardian under 14, one audit
row each, refusals write nothing but their audit row, withdrawal deletes everything at
once; the running gallery follows at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, update

from gate.app.actor import Actor, Scope
from gate.app.face_ports import EnrolmentFace
from gate.app.faces import (
    EnrolFace,
    FaceConsentForm,
    RecordFaceConsent,
    capture_frame,
    enrol_face,
    enrolment_photo,
    face_panel,
    record_face_consent,
    under_guardian_age,
    withdraw_face_consent,
)
from gate.app.people import MoveOut, move_out
from gate.domain.device_ports import Frame
from gate.domain.errors import (
    ActionRefused,
    FaceImageRejected,
    FaceQualityRefused,
    NoSingleFace,
    NotFound,
    OutOfScope,
)
from gate.domain.faces import FaceBand
from gate.runtime.bootstrap import Services
from registry.models import FaceConsent, FaceTemplate, Person
from tests.api.test_office_support import Compound, audits
from tests.face_assessment import record_assessment

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
OFFICE = Actor("office", "test", NOW)
HEAD = Actor("head", "test", NOW, Scope(frozenset({"1", "2"})))
CONSENT = FaceConsentForm(consented_by="王小明本人", guardian=False, notice_version="2026-01")


@pytest.fixture(autouse=True)
def _assessed(compound: Compound) -> None:
    """Enrolment waits for the impact assessment (tests/gate/app/test_impact_assessments.py)."""
    record_assessment(compound.services.units)


def template(seed: int) -> bytes:
    return np.random.default_rng(seed).normal(0, 0.1, 128).astype("<f4").tobytes()


@dataclass
class FakeEnroller:
    """Hands out the faces it is given, or raises the errors; records the photos."""

    faces: list[EnrolmentFace | Exception] = field(default_factory=list)
    photos: list[Any] = field(default_factory=list)

    def enrolment_face(self, photo: bytes) -> EnrolmentFace:
        self.photos.append(photo)
        outcome = self.faces.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def enrolment_frame(self, image: Any) -> EnrolmentFace:
        return self.enrolment_face(image)


def good(seed: int) -> EnrolmentFace:
    return EnrolmentFace(template(seed), b"\xff\xd8thumb", {"face_px": 140.0, "sharpness": 300.0})


def consent(services: Services, ref: str, form: FaceConsentForm = CONSENT) -> None:
    record_face_consent(RecordFaceConsent(ref, form), actor=OFFICE, units=services.units)


def enrol(services: Services, ref: str, enroller: FakeEnroller, **kwargs: Any) -> Any:
    return enrol_face(
        EnrolFace(ref, b"photo", **kwargs),
        actor=OFFICE,
        units=services.units,
        enroller=enroller,
        gallery=services.face_gallery,
    )


def count(services: Services, model: Any) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_consent_then_enrolment_then_withdrawal(compound: Compound) -> None:
    services = compound.services
    consent(services, compound.wang)
    (row,) = audits(services, "face.consent")
    assert (row.actor, row.target) == ("office", f"person:{compound.wang}")
    assert row.detail == {
        "consented_by": "王小明本人",
        "guardian": False,
        "notice_version": "2026-01",
    }

    enroller = FakeEnroller([good(1), good(2)])
    first = enrol(services, compound.wang, enroller)
    second = enrol(services, compound.wang, enroller, source="cli")
    assert first.quality == {"face_px": 140.0, "sharpness": 300.0}
    assert [r.detail for r in audits(services, "face.enrol")] == [
        {"template": first.template_id, "source": "upload", "face_px": 140.0, "sharpness": 300.0},
        {"template": second.template_id, "source": "cli", "face_px": 140.0, "sharpness": 300.0},
    ]
    # The gallery knows them at once, without a reload.
    verdict = services.face_gallery.identify(template(2))
    assert (verdict.band, verdict.person_ref) == (FaceBand.MATCH, compound.wang)

    panel = face_panel(compound.wang, actor=OFFICE, units=services.units)
    assert panel.consent is not None
    assert panel.consent.recorded_by == "office"
    assert [t.id for t in panel.templates] == [first.template_id, second.template_id]
    assert not panel.guardian_needed
    assert (
        enrolment_photo(compound.wang, first.template_id, actor=OFFICE, units=services.units)
        == b"\xff\xd8thumb"
    )

    removed = withdraw_face_consent(
        compound.wang, actor=OFFICE, units=services.units, gallery=services.face_gallery
    )
    assert removed == 2
    assert count(services, FaceTemplate) == 0
    assert [r.detail for r in audits(services, "face.withdraw")] == [{"templates": 2}]
    assert services.face_gallery.identify(template(2)).band is FaceBand.UNKNOWN
    after = face_panel(compound.wang, actor=OFFICE, units=services.units)
    assert after.consent is None
    assert after.templates == []
    assert [c.withdrawn_by for c in after.history] == ["office"]
    # No audit row carries a template.
    for action in ("face.consent", "face.enrol", "face.withdraw"):
        for audited in audits(services, action):
            assert template(1).hex()[:16] not in str(audited.detail)


def test_no_enrolment_without_consent_in_force(compound: Compound) -> None:
    services = compound.services
    enroller = FakeEnroller([good(1)])
    with pytest.raises(ActionRefused) as refused:
        enrol(services, compound.wang, enroller)
    assert refused.value.code == "face_no_consent"
    assert enroller.photos == []  # refused before the photo is even looked at
    assert count(services, FaceTemplate) == 0
    (row,) = audits(services, "action.refused")
    assert row.detail == {"reason": "face_no_consent"}
    with pytest.raises(ActionRefused) as again:
        withdraw_face_consent(
            compound.wang, actor=OFFICE, units=services.units, gallery=services.face_gallery
        )
    assert again.value.code == "face_no_consent"


@pytest.mark.parametrize(
    ("problem", "code", "params"),
    [
        (NoSingleFace("no_face", "none"), "face_no_face", {}),
        (NoSingleFace("several_faces", "two", faces=2), "face_several_faces", {"faces": 2}),
        (
            FaceQualityRefused("face_too_small", "small", face_px=30, limit=60),
            "face_too_small",
            {"face_px": 30, "limit": 60},
        ),
        (
            FaceQualityRefused("blurred", "blur", sharpness=3.1, limit=25.0),
            "face_blurred",
            {"sharpness": 3.1, "limit": 25.0},
        ),
        (
            FaceQualityRefused("not_frontal", "turned", turn=0.4, limit=0.25),
            "face_not_frontal",
            {"turn": 0.4, "limit": 0.25},
        ),
        (FaceImageRejected("alpha_channel", "alpha"), "face_alpha_channel", {}),
        (
            FaceImageRejected("too_large", "big", bytes=1, limit=0),
            "face_too_large",
            {"bytes": 1, "limit": 0, "limit_mb": 0},
        ),
    ],
)
def test_a_refused_photo_writes_nothing_but_its_refusal(
    compound: Compound, problem: Exception, code: str, params: dict[str, Any]
) -> None:
    services = compound.services
    consent(services, compound.wang)
    with pytest.raises(ActionRefused) as refused:
        enrol(services, compound.wang, FakeEnroller([problem]))
    assert (refused.value.code, refused.value.params) == (code, params)
    assert count(services, FaceTemplate) == 0
    assert audits(services, "face.enrol") == []
    (row,) = audits(services, "action.refused")
    assert row.detail["reason"] == code


def test_a_child_needs_a_guardian(compound: Compound) -> None:
    services = compound.services
    with services.database.session() as session:
        session.execute(
            update(Person).where(Person.ref == compound.li).values(birth_date=date(2015, 6, 1))
        )
    with pytest.raises(ActionRefused) as refused:
        consent(services, compound.li)
    assert (refused.value.code, refused.value.params) == ("face_guardian_required", {"age": 14})
    assert count(services, FaceConsent) == 0
    assert face_panel(compound.li, actor=OFFICE, units=services.units).guardian_needed
    consent(services, compound.li, FaceConsentForm("李梅的父亲 李强", True, "2026-01"))
    (row,) = audits(services, "face.consent")
    assert row.detail["guardian"] is True


def test_guardian_age_is_counted_in_whole_years() -> None:
    assert under_guardian_age(date(2012, 12, 2), date(2026, 12, 1))
    assert not under_guardian_age(date(2012, 12, 1), date(2026, 12, 1))
    assert not under_guardian_age(None, date(2026, 12, 1))


@pytest.mark.parametrize(
    ("form", "code"),
    [
        (FaceConsentForm("  ", False, "2026-01"), "required"),
        (FaceConsentForm("长" * 101, False, "2026-01"), "too_long"),
        (FaceConsentForm("本人", False, ""), "required"),
    ],
)
def test_the_consent_form_is_checked(compound: Compound, form: FaceConsentForm, code: str) -> None:
    with pytest.raises(ActionRefused) as refused:
        consent(compound.services, compound.wang, form)
    assert refused.value.code == code


def test_one_consent_in_force_at_a_time(compound: Compound) -> None:
    services = compound.services
    consent(services, compound.wang)
    with pytest.raises(ActionRefused) as refused:
        consent(services, compound.wang)
    assert refused.value.code == "face_consent_in_force"
    assert count(services, FaceConsent) == 1


def test_scope_holds_for_every_face_use_case(compound: Compound) -> None:
    services = compound.services
    with pytest.raises(OutOfScope):
        record_face_consent(
            RecordFaceConsent(compound.zhao, CONSENT), actor=HEAD, units=services.units
        )
    with pytest.raises(OutOfScope):
        face_panel(compound.zhao, actor=HEAD, units=services.units)
    consent(services, compound.wang)
    enrolled = enrol(services, compound.wang, FakeEnroller([good(1)]))
    with pytest.raises(NotFound):  # a template of someone else, asked for under this person
        enrolment_photo(compound.li, enrolled.template_id, actor=OFFICE, units=services.units)


class StillCamera:
    def __init__(self, image: Any) -> None:
        self.image = image

    def latest_frame(self) -> Frame | None:
        return None if self.image is None else Frame(self.image, NOW, 7, 1.0)


def test_a_capture_takes_the_lanes_latest_frame(compound: Compound) -> None:
    services = compound.services
    consent(services, compound.wang)
    image = np.zeros((4, 4, 3), np.uint8)
    cameras: dict[str, Any] = {"entry": StillCamera(image), "exit": StillCamera(None)}
    enroller = FakeEnroller([good(3)])
    enrol(services, compound.wang, enroller, source="camera", frame=capture_frame(cameras, "entry"))
    assert enroller.photos == [image]
    (row,) = audits(services, "face.enrol")
    assert row.detail["source"] == "camera"
    with pytest.raises(ActionRefused) as no_frame:
        capture_frame(cameras, "exit")
    assert no_frame.value.code == "face_no_frame"
    with pytest.raises(ActionRefused) as no_camera:
        capture_frame(cameras, "side")
    assert no_camera.value.code == "face_no_camera"


def test_a_consent_withdrawn_while_the_photo_is_encoded_stores_nothing(
    compound: Compound,
) -> None:
    # Encoding takes a second or two outside any transaction; a withdrawal that lands in
    # between (the office page in another tab, the CLI) must win: no template is kept.
    services = compound.services
    consent(services, compound.wang)

    class WithdrawnMeanwhile(FakeEnroller):
        def enrolment_face(self, photo: bytes) -> EnrolmentFace:
            withdraw_face_consent(
                compound.wang, actor=OFFICE, units=services.units, gallery=services.face_gallery
            )
            return super().enrolment_face(photo)

    with pytest.raises(ActionRefused) as refused:
        enrol(services, compound.wang, WithdrawnMeanwhile([good(1)]))
    assert refused.value.code == "face_no_consent"
    assert count(services, FaceTemplate) == 0
    assert len(services.face_gallery) == 0


def test_moving_out_deletes_every_template_at_once(compound: Compound) -> None:
    services = compound.services
    consent(services, compound.wang)
    enrol(services, compound.wang, FakeEnroller([good(1)]))
    enrol(services, compound.wang, FakeEnroller([good(2)]))
    assert len(services.face_gallery) == 2
    move_out(
        MoveOut(compound.wang), actor=OFFICE, units=services.units, gallery=services.face_gallery
    )
    assert count(services, FaceTemplate) == 0
    assert len(services.face_gallery) == 0
    (row,) = audits(services, "person.move_out")
    assert row.detail["face_templates"] == 2
    with services.database.session() as session:
        withdrawn = session.scalars(select(FaceConsent)).one()
    assert withdrawn.withdrawn_at is not None
