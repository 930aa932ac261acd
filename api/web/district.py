"""The district's pull feed: ``GET /api/v1/passages`` (see ``gate.app.district_feed``).

JSON pages by default (``{"items", "next_cursor"}``); ``Accept: application/x-ndjson``
streams one item per line, up to ``limit`` rows, fetched from the log a page at a time
while the previous one is being sent (resume after the last line's ``seq``: the cursor
is ``v1.<seq>``); ``Accept: text/csv`` gives a page as CSV with the cursor in the
``X-Next-Cursor`` header. ``profile=viid`` wraps items as GA/T 1400-style list objects.
Every request needs a key with ``passages:read`` (or a staff session that may see the
shift report), and is audited with the caller's name by the key check.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from api.i18n import refusal_text
from api.web.deps import language, web
from api.web.machine_auth import machine_or_staff
from gate.app.actor import Actor
from gate.app.district_feed import (
    CSV_COLUMNS,
    DEFAULT_PAGE,
    MAX_PAGE,
    CompoundAddress,
    FeedProfile,
    csv_row,
    read_page,
)
from gate.domain.api_scopes import ApiScope
from gate.domain.errors import ActionRefused

router = APIRouter(prefix="/api/v1")
MAX_STREAM = 1_000_000  # rows in one NDJSON response
NDJSON = "application/x-ndjson"
FeedCaller = Annotated[Actor, Depends(machine_or_staff(ApiScope.PASSAGES_READ))]


def compound_address(request: Request) -> CompoundAddress:
    """The compound's address as the settings give it."""
    compound = web(request).services.settings.compound
    return CompoundAddress(
        code=compound.code,
        name=compound.name,
        province=compound.province,
        city=compound.city,
        district=compound.district,
        street=compound.street,
        community=compound.community,
    )


@router.get(
    "/passages",
    responses={
        200: {
            "description": "A page of passages after the cursor, in sequence order",
            "content": {NDJSON: {}, "text/csv": {}},
        },
        401: {"description": "No key, or a revoked or unknown one"},
        403: {"description": "The key lacks passages:read"},
        422: {"description": "A malformed cursor or limit"},
        429: {"description": "Over the key's rate; see Retry-After"},
    },
)
def passages(
    request: Request,
    caller: FeedCaller,
    after: Annotated[
        str | None, Query(max_length=32, pattern=r"^v1\.[0-9]{1,18}$", examples=["v1.1200"])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_STREAM)] = DEFAULT_PAGE,
    profile: FeedProfile = FeedProfile.STANDARD,
) -> Response:
    """Passages after ``after`` (none: from the start), never a row twice or skipped."""
    services = web(request).services
    compound = compound_address(request)
    accept = request.headers.get("accept", "")

    def page(cursor: str | None, size: int) -> Any:
        return read_page(
            cursor,
            limit=size,
            reader=services.feed,
            compound=compound,
            pseudonym=services.pseudonym,
            profile=profile,
        )

    try:
        first = page(after, min(limit, MAX_PAGE))  # a bad cursor fails before streaming
    except ActionRefused as refused:
        detail = {"detail": refusal_text(language(request), refused), "code": refused.code}
        return Response(orjson.dumps(detail), status_code=422, media_type="application/json")
    if NDJSON in accept:

        def lines() -> Iterator[bytes]:
            current, sent = first, 0
            while True:
                chunk = b"".join(orjson.dumps(item) + b"\n" for item in current.items)
                if chunk:
                    yield chunk
                sent += current.count
                if current.count < MAX_PAGE or sent >= limit:
                    return
                current = page(current.next_cursor, min(limit - sent, MAX_PAGE))

        return StreamingResponse(lines(), media_type=NDJSON, headers={"Cache-Control": "no-store"})
    single = first
    headers = {"X-Next-Cursor": single.next_cursor, "Cache-Control": "no-store"}
    if "text/csv" in accept:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_row(item) for item in single.items)
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    if profile is FeedProfile.VIID:
        body: dict[str, Any] = {
            "AccessRecordListObject": {"AccessRecordObject": single.items},
            "next_cursor": single.next_cursor,
        }
    else:
        body = {"items": single.items, "next_cursor": single.next_cursor}
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)
