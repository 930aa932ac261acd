"""The household plan page: a building as the building heads drew it, one A4 page in print.

``GET /office/buildings/{key}/plan`` for whoever may see the building (a building head
only their own; another building is refused and audited by the app's ``OutOfScope``
handler). Floors are rows (the top floor first), units side by side, a cell per flat with
its residents (masked) coloured by what matters now; a cell opens the household.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.web.deps import actor, web
from api.web.office_common import OfficeUser, local_time, not_found, page, scope_of
from gate.app.office_views import building_plan
from gate.app.plan_values import HouseholdPlan
from gate.domain.errors import NotFound

router = APIRouter()  # included by office_people, under its /office

# Marks in the order of urgency, each with its short letter for the cell and the key.
MARKS = ("quarantine", "monitoring", "temperature", "outside", "vacant")


@dataclass(frozen=True)
class PrintLayout:
    """How the plan fits one A4 sheet: its orientation, row height and type size."""

    orientation: str  # "landscape" or "portrait"
    row_mm: float
    font_pt: float
    names: bool  # room for the residents' names in a cell


def print_layout(plan: HouseholdPlan) -> PrintLayout:
    """The sheet for ``plan``: landscape unless the building is much taller than wide."""
    columns = sum(len(unit.doors) for unit in plan.units) or 1
    rows = len(plan.floors) + 2  # two heading rows
    portrait = rows > columns * 1.2
    # The A4 page less 8 mm margins, the title block and the key (about 30 mm).
    height = (297 if portrait else 210) - 16 - 30
    width = (210 if portrait else 297) - 16 - 12  # less the floor column
    row_mm = min(18.0, height / rows)
    font_pt = max(5.0, min(8.0, row_mm * 0.55, width / columns * 0.28))
    return PrintLayout(
        "portrait" if portrait else "landscape", round(row_mm, 1), round(font_pt, 1), row_mm >= 11
    )


@router.get("/buildings/{key}/plan")
def plan_page(request: Request, user: OfficeUser, key: str) -> Response:
    """Building ``key`` as its household plan (楼栋单元住户平面图)."""
    try:
        caller = actor(request, user, scope_of(user))
        plan = building_plan(key, actor=caller, units=web(request).services.units)
    except NotFound:
        return not_found(request, user)
    return page(
        request,
        "office_plan.html",
        user,
        section="registry",
        plan=plan,
        marks=MARKS,
        generated=local_time(plan.at),
        layout=print_layout(plan),
    )
