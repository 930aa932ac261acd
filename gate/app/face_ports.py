"""What the face enrolment use cases need: the registry's consents and templates, and the
engine that turns a photo into a template and a face crop (``recognition.faces``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ConsentOnFile:
    """A person's separate consent to face recognition, as recorded."""

    id: int
    person_ref: str
    consented_by: str  # the person, or their guardian (``guardian``)
    guardian: bool
    notice_version: str
    consented_at: datetime
    recorded_by: str
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None

    @property
    def in_force(self) -> bool:
        """Not withdrawn."""
        return self.withdrawn_at is None


@dataclass(frozen=True)
class AssessmentOnFile:
    """A personal-information impact assessment of face recognition, as recorded."""

    id: int
    assessed_on: date
    assessed_by: str
    reference: str  # a summary, or where the report is kept
    scope: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class TemplateOnFile:
    """One enrolled template as the office sees it: never the template itself."""

    id: int
    person_ref: str
    source: str  # upload, camera, cli
    quality: Mapping[str, float]
    created_at: datetime
    created_by: str
    has_photo: bool


@dataclass(frozen=True, repr=False)
class EnrolmentFace:
    """What the engine made of an enrolment photo: the template, a small JPEG of the face,
    and the quality measures it passed (``face_px``, ``sharpness``, ``turn``)."""

    template: bytes
    thumbnail: bytes
    quality: Mapping[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:  # a template never reaches a log
        return f"EnrolmentFace(quality={dict(self.quality)!r})"


class FaceEnroller(Protocol):
    """Turns an enrolment photo into a template, through the quality gate."""

    def enrolment_face(self, photo: bytes) -> EnrolmentFace:
        """The one face in ``photo`` (an image file's bytes), checked and encoded.

        Raises ``FaceImageRejected``: ``NoSingleFace`` (no_face, several_faces),
        ``FaceQualityRefused`` (face_too_small, blurred, not_frontal).
        """
        ...

    def enrolment_frame(self, image: Any) -> EnrolmentFace:
        """The same for a camera frame's image (BGR) instead of a file."""
        ...


class FaceRecords(Protocol):
    """Consents and templates in the actor's transaction (``registry.face_store``)."""

    def birth_date(self, person_ref: str) -> date | None:
        """The person's date of birth, if registered; ``NotFound``."""
        ...

    def consent_in_force(self, person_ref: str) -> ConsentOnFile | None:
        """The person's consent that is not withdrawn, if any."""
        ...

    def consents_of(self, person_ref: str) -> Sequence[ConsentOnFile]:
        """Every consent of the person, newest first."""
        ...

    def record_consent(
        self, person_ref: str, *, consented_by: str, guardian: bool, notice_version: str
    ) -> ConsentOnFile:
        """Record a consent given now, recorded by the actor."""
        ...

    def withdraw(self, person_ref: str) -> int:
        """Withdraw the consent in force and delete every template; how many."""
        ...

    def hold_consent(self, consent_id: int) -> bool:
        """Hold the consent for this transaction if still in force (a withdrawal waits)."""
        ...

    def add_template(
        self,
        person_ref: str,
        *,
        consent_id: int,
        face: EnrolmentFace,
        source: str,
    ) -> int:
        """Store a template and its photo, encrypted; its id."""
        ...

    def templates_of(self, person_ref: str) -> Sequence[TemplateOnFile]:
        """The person's templates, oldest first (no template bytes)."""
        ...

    def photo(self, template_id: int) -> tuple[str, bytes | None]:
        """The person ref and the enrolment JPEG of a template; ``NotFound``."""
        ...

    def assessments(self) -> Sequence[AssessmentOnFile]:
        """Every impact assessment recorded, newest first."""
        ...

    def record_assessment(
        self, *, assessed_on: date, assessed_by: str, reference: str, scope: str
    ) -> AssessmentOnFile:
        """Record an impact assessment, recorded by the actor now."""
        ...
