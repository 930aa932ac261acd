"""The district's control lists and tracing: ``PUT /api/v1/controls``, ``GET /api/v1/trace/*``.

``PUT /api/v1/controls`` needs ``controls:write`` (or a staff session that may manage the
rules) and answers a result per row (``gate.app.controls``); ``GET /api/v1/trace/person``
and ``/trace/window`` need ``trace:read`` (or a staff session with the audit log) and a
``purpose`` (``gate.app.tracing``). A refused request is 422 with its ``code``. On a hub a
key bound to compounds (and a staff session) traces the passages those compounds pushed
(``HubTraces``; ``compound`` narrows it, 403 for one it may not read); anyone else traces
this gate's own log (``GateTraces``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.i18n import refusal_text
from api.web.deps import language, web
from api.web.district import compound_address
from api.web.hub import hub_reach, not_this_compound, refused_compound
from api.web.machine_auth import CompoundCaller, caller_with_compounds, machine_or_staff
from gate.app.actor import Actor
from gate.app.controls import MAX_ROWS, ApplyControls, ControlRow, apply_controls
from gate.app.hub import HubCompoundRefused, readable
from gate.app.tracing import (
    MAX_PSEUDONYM,
    MAX_PURPOSE,
    GateTraces,
    HubTraces,
    TraceAnswer,
    TracePerson,
    TraceReader,
    TraceWindow,
)
from gate.app.tracing import trace_person as trace_person_use_case
from gate.app.tracing import trace_window as trace_window_use_case
from gate.domain.api_scopes import ApiScope
from gate.domain.errors import ActionRefused, DocumentInvalid, GateError

router = APIRouter(prefix="/api/v1")
ControlsCaller = Annotated[Actor, Depends(machine_or_staff(ApiScope.CONTROLS_WRITE))]
TraceCaller = Annotated[CompoundCaller, Depends(caller_with_compounds(ApiScope.TRACE_READ))]
_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No key, or a revoked or unknown one"},
    403: {"description": "The key lacks the scope, or may not read the compound"},
    422: {"description": "Refused: see `code`"},
    429: {"description": "Over the key's rate; see Retry-After"},
}


class ControlItem(BaseModel):
    """One row of a control list (text; each row is checked on its own)."""

    model_config = ConfigDict(populate_by_name=True, coerce_numbers_to_str=True)

    reference: str | None = Field(None, examples=["XC-2026-1130-0042"])
    document_number: str | None = None
    document_hash: str | None = None
    document_type: str | None = Field(None, examples=["resident_id"])
    status: str | None = Field(None, examples=["home_quarantine"])
    from_: str | None = Field(None, alias="from", examples=["2026-11-30"])
    to: str | None = Field(None, examples=["2026-12-13"])
    basis: str | None = None


class ControlList(BaseModel):
    """A control list from the district."""

    items: list[ControlItem] = Field(min_length=1, max_length=MAX_ROWS)


def _problem(request: Request, problem: GateError) -> dict[str, Any]:
    if isinstance(problem, DocumentInvalid):
        return {
            "code": "document",
            "document_reason": problem.reason,
            "detail": refusal_text(language(request), problem),
        }
    code = problem.code if isinstance(problem, ActionRefused) else "other"
    return {"code": code, "detail": refusal_text(language(request), problem)}


def _refused(request: Request, problem: GateError) -> JSONResponse:
    return JSONResponse(_problem(request, problem), status_code=422)


@router.put("/controls", responses=_REFUSALS)
def put_controls(request: Request, caller: ControlsCaller, body: ControlList) -> Any:
    """Apply a control list: per row ``applied``, ``watch`` or ``invalid`` (idempotent)."""
    rows = [
        ControlRow(
            reference=item.reference,
            document_number=item.document_number,
            document_hash=item.document_hash,
            document_type=item.document_type,
            status=item.status,
            first_day=item.from_,
            last_day=item.to,
            basis=item.basis,
        )
        for item in body.items
    ]
    try:
        done = apply_controls(ApplyControls(rows), actor=caller, units=web(request).services.units)
    except ActionRefused as refused:
        return _refused(request, refused)
    results = []
    for result in done.results:
        line: dict[str, Any] = {
            "row": result.row,
            "reference": result.reference,
            "result": result.result,
            "change": result.change,
        }
        if result.problem is not None:
            line |= {"reason": result.reason, **_problem(request, result.problem)}
            del line["code"]
        results.append(line)
    return {"results": results, "counts": done.counts}


def _answer(answer: TraceAnswer) -> dict[str, Any]:
    return {
        "items": answer.items,
        "from": answer.since.isoformat(),
        "to": answer.until.isoformat(),
        "count": len(answer.items),
        "truncated": answer.truncated,
    }


# ``purpose`` is read by the use case, which refuses it missing or blank with its own code
# (``trace_purpose_required``); the schema says what a good one is.
_PURPOSE: dict[str, Any] = {
    "parameters": [
        {
            "name": "purpose",
            "in": "query",
            "required": True,
            "description": "Why the trace is asked for (audited with the caller)",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PURPOSE,
                "pattern": r"\S",
            },
        }
    ]
}
Moment = Annotated[str | None, Query(max_length=40, examples=["2026-11-30"])]


Compound = Annotated[
    str | None,
    Query(
        max_length=32,
        pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
        description="Hub mode: only this compound (one the key is bound to)",
    ),
]


def _reader(request: Request, caller: CompoundCaller, compound: str | None) -> TraceReader:
    """The hub's passages of the caller's compounds, or this gate's own log.

    ``HubCompoundRefused`` for a ``compound`` the caller does not read.
    """
    reach = hub_reach(request, caller.compounds)
    if reach is not None:
        return HubTraces(readable(compound, reach.compounds))
    if not_this_compound(request, compound) is not None:
        raise HubCompoundRefused(compound or "")
    return GateTraces(compound_address(request), web(request).services.pseudonym)


@router.get("/trace/person", responses=_REFUSALS, openapi_extra=_PURPOSE)
def trace_person(
    request: Request,
    caller: TraceCaller,
    document: Annotated[
        str | None, Query(max_length=40, description="At a gate: the document number")
    ] = None,
    document_type: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[Moment, Query(alias="from")] = None,
    until: Annotated[Moment, Query(alias="to")] = None,
    person: Annotated[
        str | None,
        Query(max_length=MAX_PSEUDONYM, description="On a hub: the person's pseudonym"),
    ] = None,
    compound: Compound = None,
) -> Any:
    """A person's passages in a window (at most 31 days; a purpose is required)."""
    command = TracePerson(
        document, request.query_params.get("purpose"), document_type, since, until, person
    )
    try:
        reader = _reader(request, caller, compound)
        answer = trace_person_use_case(
            command, actor=caller.actor, units=web(request).services.units, reader=reader
        )
    except HubCompoundRefused as refused:
        return refused_compound(request, refused)
    except (ActionRefused, DocumentInvalid) as refused:
        return _refused(request, refused)
    return _answer(answer)


@router.get("/trace/window", responses=_REFUSALS, openapi_extra=_PURPOSE)
def trace_window(
    request: Request,
    caller: TraceCaller,
    since: Annotated[Moment, Query(alias="from")] = None,
    until: Annotated[Moment, Query(alias="to")] = None,
    compound: Compound = None,
) -> Any:
    """Every passage in a window of at most 31 days (a purpose is required)."""
    try:
        reader = _reader(request, caller, compound)
        answer = trace_window_use_case(
            TraceWindow(since, until, request.query_params.get("purpose")),
            actor=caller.actor,
            units=web(request).services.units,
            reader=reader,
        )
    except HubCompoundRefused as refused:
        return refused_compound(request, refused)
    except ActionRefused as refused:
        return _refused(request, refused)
    return _answer(answer)
