"""Face consents and templates on the registry database, encrypted with the personal-data key.

``SqlFaceRecords`` is ``gate.app.face_ports.FaceRecords``: bound to one unit of work's
session and actor, it reads and writes rows and validates and audits nothing (the use
cases in ``gate.app.faces`` do, once). ``SqlFaceStore`` is the process-wide side: the
``FaceTemplateSource`` the gallery loads from, and the enrolment photos the terminal and the
office show.

A template and its photo are AES-GCM under the personal-data key with the column and the
person's ref as associated data, so a ciphertext moved to another person's row does not
decrypt. Neither is ever exported, fed to the district or logged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from gate.app.actor import Actor
from gate.app.face_ports import AssessmentOnFile, ConsentOnFile, EnrolmentFace, TemplateOnFile
from gate.domain.errors import NotFound
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.models import FaceConsent, FaceTemplate, ImpactAssessment, Person


def template_field(person_ref: str) -> str:
    """The associated data of a person's template ciphertext."""
    return f"face_templates.template:{person_ref}"


def photo_field(person_ref: str) -> str:
    """The associated data of a person's enrolment-photo ciphertext."""
    return f"face_templates.photo:{person_ref}"


def _consent(row: FaceConsent, person_ref: str) -> ConsentOnFile:
    return ConsentOnFile(
        id=row.id,
        person_ref=person_ref,
        consented_by=row.consented_by,
        guardian=row.guardian,
        notice_version=row.notice_version,
        consented_at=row.consented_at,
        recorded_by=row.recorded_by,
        withdrawn_at=row.withdrawn_at,
        withdrawn_by=row.withdrawn_by,
    )


class SqlFaceRecords:
    """``FaceRecords``: one session, one actor (see the module docstring)."""

    def __init__(self, session: Session, cipher: PersonalDataCipher, actor: Actor) -> None:
        self._session, self._cipher, self._actor = session, cipher, actor

    def _person(self, ref: str) -> Person:
        person = self._session.scalar(select(Person).where(Person.ref == ref))
        if person is None:
            raise NotFound("no such person")
        return person

    def birth_date(self, person_ref: str) -> date | None:
        """The person's date of birth; ``NotFound``."""
        return self._person(person_ref).birth_date

    def _in_force(self, person_id: int) -> FaceConsent | None:
        return self._session.scalar(
            select(FaceConsent)
            .where(FaceConsent.person_id == person_id, FaceConsent.withdrawn_at.is_(None))
            .order_by(FaceConsent.id.desc())
            .limit(1)
        )

    def consent_in_force(self, person_ref: str) -> ConsentOnFile | None:
        """The consent not withdrawn, if any."""
        row = self._in_force(self._person(person_ref).id)
        return _consent(row, person_ref) if row is not None else None

    def consents_of(self, person_ref: str) -> Sequence[ConsentOnFile]:
        """Every consent, newest first."""
        person = self._person(person_ref)
        rows = self._session.scalars(
            select(FaceConsent)
            .where(FaceConsent.person_id == person.id)
            .order_by(FaceConsent.id.desc())
        )
        return [_consent(row, person_ref) for row in rows]

    def record_consent(
        self, person_ref: str, *, consented_by: str, guardian: bool, notice_version: str
    ) -> ConsentOnFile:
        """A consent given now, recorded by the actor."""
        row = FaceConsent(
            person_id=self._person(person_ref).id,
            consented_by=consented_by,
            guardian=guardian,
            notice_version=notice_version,
            consented_at=self._actor.at,
            recorded_by=self._actor.name,
        )
        self._session.add(row)
        self._session.flush()
        return _consent(row, person_ref)

    def withdraw(self, person_ref: str) -> int:
        """Withdraw the consents in force and delete every template of the person.

        The consent rows first: on PostgreSQL that waits for an enrolment holding the
        consent (``hold_consent``) to commit, so the delete that follows sees its template.
        """
        person = self._person(person_ref)
        self._session.execute(
            update(FaceConsent)
            .where(FaceConsent.person_id == person.id, FaceConsent.withdrawn_at.is_(None))
            .values(withdrawn_at=self._actor.at, withdrawn_by=self._actor.name)
        )
        removed = cast(
            CursorResult[Any],
            self._session.execute(delete(FaceTemplate).where(FaceTemplate.person_id == person.id)),
        ).rowcount
        return int(removed or 0)

    def hold_consent(self, consent_id: int) -> bool:
        """Lock consent ``consent_id`` for this transaction if it is still in force.

        False once withdrawn (also when the withdrawal committed while we waited: the row is
        read again after the lock). SQLite has one writer at a time and needs no lock.
        """
        held = self._session.scalar(
            select(FaceConsent.id)
            .where(FaceConsent.id == consent_id, FaceConsent.withdrawn_at.is_(None))
            .with_for_update()
        )
        return held is not None

    def add_template(
        self, person_ref: str, *, consent_id: int, face: EnrolmentFace, source: str
    ) -> int:
        """Store a template and its photo, encrypted; its id."""
        row = FaceTemplate(
            person_id=self._person(person_ref).id,
            consent_id=consent_id,
            template_cipher=self._cipher.encrypt_bytes(template_field(person_ref), face.template),
            photo_cipher=self._cipher.encrypt_bytes(photo_field(person_ref), face.thumbnail)
            if face.thumbnail
            else None,
            source=source,
            quality={key: round(float(value), 3) for key, value in face.quality.items()},
            created_at=self._actor.at,
            created_by=self._actor.name,
        )
        self._session.add(row)
        self._session.flush()
        return row.id

    def templates_of(self, person_ref: str) -> Sequence[TemplateOnFile]:
        """The person's templates, oldest first."""
        person = self._person(person_ref)
        rows = self._session.execute(
            select(
                FaceTemplate.id,
                FaceTemplate.source,
                FaceTemplate.quality,
                FaceTemplate.created_at,
                FaceTemplate.created_by,
                FaceTemplate.photo_cipher.is_not(None),
            )
            .where(FaceTemplate.person_id == person.id)
            .order_by(FaceTemplate.id)
        )
        return [
            TemplateOnFile(
                id=template_id,
                person_ref=person_ref,
                source=source,
                quality=dict(quality or {}),
                created_at=created_at,
                created_by=created_by,
                has_photo=bool(has_photo),
            )
            for template_id, source, quality, created_at, created_by, has_photo in rows
        ]

    def photo(self, template_id: int) -> tuple[str, bytes | None]:
        """The person ref and enrolment JPEG of a template; ``NotFound``."""
        return _photo(self._session, self._cipher, template_id)

    def assessments(self) -> Sequence[AssessmentOnFile]:
        """Every impact assessment recorded, newest first."""
        rows = self._session.scalars(select(ImpactAssessment).order_by(ImpactAssessment.id.desc()))
        return [_assessment(row) for row in rows]

    def record_assessment(
        self, *, assessed_on: date, assessed_by: str, reference: str, scope: str
    ) -> AssessmentOnFile:
        """Record an impact assessment, recorded by the actor now."""
        row = ImpactAssessment(
            assessed_on=assessed_on,
            assessed_by=assessed_by,
            reference=reference,
            scope=scope,
            recorded_by=self._actor.name,
            recorded_at=self._actor.at,
        )
        self._session.add(row)
        self._session.flush()
        return _assessment(row)


def _assessment(row: ImpactAssessment) -> AssessmentOnFile:
    return AssessmentOnFile(
        id=row.id,
        assessed_on=row.assessed_on,
        assessed_by=row.assessed_by,
        reference=row.reference,
        scope=row.scope,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def _photo(
    session: Session, cipher: PersonalDataCipher, template_id: int
) -> tuple[str, bytes | None]:
    found = session.execute(
        select(Person.ref, FaceTemplate.photo_cipher)
        .join(Person, Person.id == FaceTemplate.person_id)
        .where(FaceTemplate.id == template_id)
    ).first()
    if found is None:
        raise NotFound("no such face template")
    ref, blob = found
    return ref, cipher.decrypt_bytes(photo_field(ref), blob) if blob is not None else None


class SqlFaceStore:
    """The process-wide face store: ``FaceTemplateSource`` and the enrolment photos."""

    def __init__(self, database: Database, cipher: PersonalDataCipher) -> None:
        self._database, self._cipher = database, cipher

    def active_templates(self) -> Iterator[tuple[int, str, bytes]]:
        """(template id, person ref, template) of every template under a consent in force."""
        with self._database.open_session() as session:
            rows = session.execute(
                select(FaceTemplate.id, Person.ref, FaceTemplate.template_cipher)
                .join(Person, Person.id == FaceTemplate.person_id)
                .join(FaceConsent, FaceConsent.id == FaceTemplate.consent_id)
                .where(FaceConsent.withdrawn_at.is_(None))
                .order_by(FaceTemplate.id)
            ).all()
        for template_id, ref, blob in rows:
            yield template_id, ref, self._cipher.decrypt_bytes(template_field(ref), blob)

    def gallery_revision(self) -> tuple[int, int]:
        """(how many templates, the newest id): moves with every add and removal."""
        with self._database.open_session() as session:
            count, newest = session.execute(
                select(func.count(FaceTemplate.id), func.max(FaceTemplate.id))
            ).one()
        return int(count), int(newest or 0)

    def photo(self, template_id: int) -> tuple[str, bytes | None]:
        """The person ref and the enrolment JPEG of a template; ``NotFound``."""
        with self._database.open_session() as session:
            return _photo(session, self._cipher, template_id)

    def photo_of_person(self, person_ref: str) -> bytes | None:
        """The newest enrolment JPEG of a person, if any (the terminal shows it)."""
        with self._database.open_session() as session:
            found = session.execute(
                select(FaceTemplate.photo_cipher)
                .join(Person, Person.id == FaceTemplate.person_id)
                .where(Person.ref == person_ref, FaceTemplate.photo_cipher.is_not(None))
                .order_by(FaceTemplate.id.desc())
                .limit(1)
            ).scalar()
        return self._cipher.decrypt_bytes(photo_field(person_ref), found) if found else None
