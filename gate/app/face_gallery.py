"""The gallery: every consented template in memory, matched exactly, kept in step with the
registry.

One ``FaceGallery`` per process. Enrolment and withdrawal in this process update it at
once (``add``/``remove_person``); a change made by another process (the CLI) is picked up by
``refresh_if_changed``, which compares the store's cheap revision (count and newest id)
and reloads everything when it moved. Templates are decrypted only into this matrix.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Protocol

from gate.domain.faces import FaceTemplates, FaceThresholds, FaceVerdict, band_of


class FaceTemplateSource(Protocol):
    """Where the gallery loads from (``registry.face_store``)."""

    def active_templates(self) -> Iterable[tuple[int, str, bytes]]:
        """Every template of a person with consent in force: (template id, person ref,
        decrypted 512-byte template)."""
        ...

    def gallery_revision(self) -> tuple[int, int]:
        """A value that changes whenever a template is added or removed."""
        ...


class FaceGallery:
    """Thread-safe matching against the registry's templates, with the open-set bands."""

    def __init__(
        self, matrix: FaceTemplates, source: FaceTemplateSource, thresholds: FaceThresholds
    ) -> None:
        self._matrix = matrix
        self._source = source
        self.thresholds = thresholds
        self._lock = threading.Lock()
        self._revision: tuple[int, int] | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._matrix)

    def load(self) -> int:
        """Load every template from the store, replacing what is held; how many."""
        revision = self._source.gallery_revision()
        templates = list(self._source.active_templates())
        with self._lock:
            self._matrix.clear()
            for template_id, person_ref, template in templates:
                self._matrix.add(template_id, person_ref, template)
            self._revision = revision
        return len(templates)

    def refresh_if_changed(self) -> bool:
        """Reload when another process enrolled or withdrew; True if it did."""
        if self._source.gallery_revision() == self._revision:
            return False
        self.load()
        return True

    def add(self, template_id: int, person_ref: str, template: bytes) -> None:
        """A template enrolled by this process."""
        with self._lock:
            self._matrix.add(template_id, person_ref, template)
            self._revision = None  # the store moved on; the next refresh re-reads it

    def remove_person(self, person_ref: str) -> int:
        """Every template of a person gone (consent withdrawn, person deleted)."""
        with self._lock:
            removed = self._matrix.remove_person(person_ref)
            self._revision = None
            return removed

    def identify(self, template: bytes) -> FaceVerdict:
        """The band of one encoded face against the gallery."""
        with self._lock:
            match = self._matrix.match(template, persons=2)
        return band_of(match, self.thresholds)
