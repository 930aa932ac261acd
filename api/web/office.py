"""The office pages for building heads and the property office, one router for the app.

Households and persons (``office_people``), the daily round (``office_round``), exemptions
and rules (``office_controls``), import and export (``office_io``), a person's face
enrolment (``office_faces``); what they share is in ``office_common``.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web import (
    office_assessment,
    office_controls,
    office_faces,
    office_io,
    office_people,
    office_round,
)

router = APIRouter()
router.include_router(office_round.router)
router.include_router(office_controls.router)
router.include_router(office_io.router)
router.include_router(office_people.router)
router.include_router(office_faces.router)
router.include_router(office_assessment.router)
