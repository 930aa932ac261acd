"""Hub mode's API: the edges' pushes and where each resumes, and the feed across compounds.

``POST /api/v1/ingest`` takes a batch of one compound's feed items (``gate.app.hub``:
stored once by ``uuid``, all or nothing); ``GET /api/v1/ingest/cursor`` says where the
compound's edge resumes. Both need ``passages:push`` and a key bound to the compound.
``GET /api/v1/hub/daily?date=`` counts each readable compound's passages of a day.
The routes exist only with ``[hub] enabled``. ``hub_feed`` answers ``GET
/api/v1/passages`` (``api.web.district``) for a key bound to compounds and for staff of
the hub: the stored items with ``hub_seq`` first, the cursor ``v1.<hub_seq>``.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.deps import machine
from api.i18n import refusal_text
from api.web.deps import language, web
from api.web.feed_response import NDJSON, lines_response
from api.web.machine_auth import CompoundCaller, caller_with_compounds
from gate.app.district_feed import CSV_COLUMNS, MAX_PAGE, FeedProfile
from gate.app.hub import (
    HubBatchTooLarge,
    HubCompoundRefused,
    HubGap,
    HubItemInvalid,
    daily_counts,
    edge_cursor,
    hub_lines,
    hub_pages,
    ingest,
    key_compounds,
)
from gate.domain.api_scopes import ApiScope
from gate.domain.errors import ActionRefused

router = APIRouter(prefix="/api/v1")


@dataclass(frozen=True)
class HubReach:
    """The hub's compounds a caller reads (None: every compound)."""

    compounds: frozenset[str] | None


PushCaller = Annotated[CompoundCaller, Depends(caller_with_compounds(ApiScope.PASSAGES_PUSH))]
ReadCaller = Annotated[CompoundCaller, Depends(caller_with_compounds(ApiScope.PASSAGES_READ))]
COMPOUND = r"^[a-z0-9][a-z0-9_-]{0,31}$"

_PUSH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["compound_id", "items"],
                    "properties": {
                        "compound_id": {"type": "string", "pattern": COMPOUND},
                        "items": {
                            "type": "array",
                            "maxItems": 5000,
                            "items": {"type": "object"},
                            "description": "Standard feed items in the edge's seq order",
                        },
                    },
                }
            }
        },
    }
}


def _refused(request: Request, problem: ActionRefused, status: int, **extra: Any) -> Response:
    body = {"detail": refusal_text(language(request), problem), "code": problem.code, **extra}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.post(
    "/ingest",
    openapi_extra=_PUSH_BODY,
    responses={
        200: {"description": "Stored: accepted, duplicates, acknowledged_seq"},
        401: {"description": "No key, or a revoked or unknown one"},
        403: {"description": "No passages:push, or not bound to the compound"},
        409: {"description": "A gap: resend after expected_after"},
        413: {"description": "Over 5000 items or the body limit"},
        422: {"description": "A malformed body or item (index, field)"},
        429: {"description": "Over the key's rate; see Retry-After"},
    },
)
async def push(request: Request, caller: PushCaller) -> Response:
    """Store a batch of one compound's passages, once by uuid, all or nothing."""
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _refused(request, HubItemInvalid("body", problem="json"), 422, field="body")
    units = web(request).services.units
    bound = caller.compounds or frozenset()  # a staff session pushes for no compound
    try:
        result = await run_in_threadpool(ingest, body, bound=bound, actor=caller.actor, units=units)
    except HubGap as gap:
        return _refused(request, gap, 409, expected_after=gap.expected_after)
    except HubItemInvalid as invalid:
        return _refused(request, invalid, 422, index=invalid.index, field=invalid.field)
    except HubBatchTooLarge as large:
        return _refused(request, large, 413)
    except HubCompoundRefused as refused:
        return _refused(request, refused, 403)
    answer = {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "acknowledged_seq": result.acknowledged_seq,
    }
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get(
    "/ingest/cursor",
    responses={
        401: {"description": "No key, or a revoked or unknown one"},
        403: {"description": "No passages:push, or not bound to the compound"},
    },
)
def cursor(
    request: Request,
    caller: PushCaller,
    compound_id: Annotated[str, Query(max_length=32, pattern=COMPOUND)],
) -> Response:
    """The last seq the hub holds for the compound (0 if none): where its edge resumes."""
    units = web(request).services.units
    try:
        last = edge_cursor(compound_id, bound=caller.compounds, actor=caller.actor, units=units)
    except HubCompoundRefused as refused:
        return _refused(request, refused, 403)
    return JSONResponse({"compound_id": compound_id, "last_seq": last})


@router.get(
    "/hub/daily",
    responses={
        401: {"description": "No key, or a revoked or unknown one"},
        403: {"description": "The key lacks passages:read"},
    },
)
def daily(
    request: Request,
    caller: ReadCaller,
    day: Annotated[date, Query(alias="date", description="A local (Asia/Shanghai) day")],
) -> JSONResponse:
    """Passages per compound on ``date`` for the compounds the caller reads."""
    counts = daily_counts(
        day, bound=caller.compounds, actor=caller.actor, units=web(request).services.units
    )
    return JSONResponse(
        {
            "date": day.isoformat(),
            "compounds": [
                {"compound_id": c.compound_id, "passages": c.passages, "replayed": c.replayed}
                for c in counts
            ],
        }
    )


def hub_reach(request: Request, bound: frozenset[str] | None) -> HubReach | None:
    """The compounds a caller reads on the hub; None: this gate's own log answers.

    ``bound`` is the caller's key's compounds (None: a staff session, which reads every
    compound of a hub). Outside hub mode, and for a key bound to none, the gate's own.
    """
    if not web(request).services.settings.hub.enabled:
        return None
    if bound is not None and not bound:
        return None
    return HubReach(bound)


def refused_compound(request: Request, refused: HubCompoundRefused) -> Response:
    """403 ``hub_compound_refused``: the caller may not read that compound."""
    return _refused(request, refused, 403)


def not_this_compound(request: Request, compound: str | None) -> Response | None:
    """At a gate (its own log): 403 for a ``compound`` other than its own, else None."""
    if compound is None or compound == web(request).services.settings.compound.code:
        return None
    return _refused(request, HubCompoundRefused(compound), 403)


def hub_feed(
    request: Request,
    *,
    after: str | None,
    limit: int,
    compound: str | None,
    profile: FeedProfile,
) -> Response | None:
    """The hub's answer to ``GET /api/v1/passages``; None: the gate's own feed answers.

    The caller is authenticated for the feed already; a key bound to no compound reads
    this gate's own log, as everywhere.
    """
    services = web(request).services
    if not services.settings.hub.enabled:
        return None
    header = request.headers.get("authorization")
    bound: frozenset[str] | None = None  # a staff session of the hub reads every compound
    if header is not None:
        key_text = header.strip().partition(" ")[2].strip()
        bound = key_compounds(key_text, actor=machine(request), units=services.units)
        if not bound:
            return None
    accept = request.headers.get("accept", "")
    if "text/csv" in accept and NDJSON not in accept:
        profile = FeedProfile.STANDARD  # the CSV columns are the standard fields
    caller = machine(request)
    try:
        if NDJSON in accept:
            answer: Any = hub_pages(
                after,
                limit=limit,
                compound=compound,
                bound=bound,
                actor=caller,
                units=services.units,
                profile=profile,
            )
        else:
            answer = hub_lines(
                after,
                limit=min(limit, MAX_PAGE),
                compound=compound,
                bound=bound,
                actor=caller,
                units=services.units,
                profile=profile,
            )
    except HubCompoundRefused as refused:
        return _refused(request, refused, 403)
    except ActionRefused as refused:
        return _refused(request, refused, 422)
    if profile is FeedProfile.VIID:
        body = b'{"AccessRecordListObject":{"AccessRecordObject":[%s]},"next_cursor":%s}'
    else:
        body = b'{"items":[%s],"next_cursor":%s}'
    return lines_response(accept, answer, csv_columns=("hub_seq", *CSV_COLUMNS), json_body=body)


# A push of 5000 items is about 150,000 Python objects: with the default threshold (700
# allocations) the collector ran a couple of hundred times per push and rescanned every
# push in flight, a good part of the hub's time per passage. Parsed pushes hold no cycles.
GC_THRESHOLD = (100_000, 50, 100)


def install_hub(app: FastAPI) -> None:
    """Add the hub's routes (``[hub] enabled``) and tune the collector for its pushes."""
    gc.set_threshold(*GC_THRESHOLD)
    app.include_router(router)
