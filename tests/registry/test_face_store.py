"""The face store: consents, encrypted templates bound to their person, withdrawal, the
gallery's source (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import select

from gate.app.actor import Actor
from gate.app.face_ports import EnrolmentFace
from gate.domain.errors import NotFound, RegistryError
from gate.runtime.bootstrap import Services
from registry.face_store import template_field
from registry.models import FaceConsent, FaceTemplate
from tests.api.test_office_support import Compound, populate

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
OFFICE = Actor("office", "test", NOW)


def template(seed: int) -> bytes:
    return np.random.default_rng(seed).normal(0, 0.1, 128).astype("<f4").tobytes()


def face(seed: int) -> EnrolmentFace:
    return EnrolmentFace(template(seed), b"\xff\xd8jpeg" + bytes([seed]), {"sharpness": 123.456})


@pytest.fixture
def compound(services: Services) -> Compound:
    return populate(services)


def enrol(services: Services, ref: str, *seeds: int) -> list[int]:
    with services.units(OFFICE) as uow:
        consent = uow.faces.consent_in_force(ref) or uow.faces.record_consent(
            ref, consented_by="本人", guardian=False, notice_version="2026-01"
        )
        ids = [
            uow.faces.add_template(ref, consent_id=consent.id, face=face(seed), source="upload")
            for seed in seeds
        ]
        uow.commit()
    return ids


def test_templates_are_stored_encrypted_and_loaded_for_the_gallery(compound: Compound) -> None:
    services = compound.services
    assert services.face_store.gallery_revision() == (0, 0)
    first, second = enrol(services, compound.wang, 1, 2)
    (third,) = enrol(services, compound.li, 3)
    loaded = list(services.face_store.active_templates())
    assert loaded == [
        (first, compound.wang, template(1)),
        (second, compound.wang, template(2)),
        (third, compound.li, template(3)),
    ]
    assert services.face_store.gallery_revision() == (3, third)
    with services.database.session() as session:
        blobs = session.scalars(select(FaceTemplate.template_cipher)).all()
    for blob in blobs:
        assert blob not in {template(1), template(2), template(3)}
        assert template(1)[:16] not in blob
    assert services.face_store.photo(first) == (compound.wang, b"\xff\xd8jpeg\x01")
    assert services.face_store.photo_of_person(compound.wang) == b"\xff\xd8jpeg\x02"
    assert services.face_store.photo_of_person(compound.zhang) is None
    with services.units(OFFICE) as uow:
        listed = uow.faces.templates_of(compound.wang)
    assert [(t.id, t.source, t.has_photo, t.quality) for t in listed] == [
        (first, "upload", True, {"sharpness": 123.456}),
        (second, "upload", True, {"sharpness": 123.456}),
    ]
    assert not any(hasattr(t, "template") for t in listed)


def test_a_ciphertext_moved_to_another_person_does_not_decrypt(compound: Compound) -> None:
    services = compound.services
    (wang_template,) = enrol(services, compound.wang, 1)
    enrol(services, compound.li, 2)
    with services.database.session() as session:
        wang_row = session.get(FaceTemplate, wang_template)
        assert wang_row is not None
        li_row = session.scalars(select(FaceTemplate).where(FaceTemplate.id != wang_template)).one()
        li_row.template_cipher = wang_row.template_cipher
    with pytest.raises(RegistryError):
        list(services.face_store.active_templates())
    plain = services.cipher.decrypt_bytes(template_field(compound.wang), wang_row.template_cipher)
    assert plain == template(1)


def test_withdrawal_deletes_every_template_and_keeps_the_consent_on_record(
    compound: Compound,
) -> None:
    services = compound.services
    enrol(services, compound.wang, 1, 2, 3)
    enrol(services, compound.li, 4)
    with services.units(OFFICE) as uow:
        assert uow.faces.withdraw(compound.wang) == 3
        uow.commit()
    assert [ref for _id, ref, _t in services.face_store.active_templates()] == [compound.li]
    with services.units(OFFICE) as uow:
        assert uow.faces.consent_in_force(compound.wang) is None
        (withdrawn,) = uow.faces.consents_of(compound.wang)
        assert uow.faces.templates_of(compound.wang) == []
    assert (withdrawn.withdrawn_at, withdrawn.withdrawn_by) == (NOW, "office")
    assert not withdrawn.in_force
    with services.database.session() as session:
        assert len(session.scalars(select(FaceConsent)).all()) == 2


def test_unknown_persons_and_templates_are_not_found(compound: Compound) -> None:
    services = compound.services
    with services.units(OFFICE) as uow, pytest.raises(NotFound):
        uow.faces.consent_in_force("no-such-ref")
    with pytest.raises(NotFound):
        services.face_store.photo(999)


def test_the_gallery_built_by_bootstrap_loads_from_the_store(compound: Compound) -> None:
    services = compound.services
    enrol(services, compound.wang, 1)
    assert services.face_gallery.refresh_if_changed()
    verdict = services.face_gallery.identify(template(1))
    assert (verdict.band.value, verdict.person_ref) == ("match", compound.wang)
    assert not services.face_gallery.refresh_if_changed()
