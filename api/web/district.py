"""The district's pull feed: ``GET /api/v1/passages`` (see ``gate.app.district_feed``).

JSON pages by default (``{"items", "next_cursor"}``); ``Accept: application/x-ndjson``
streams one item per line, up to ``limit`` rows, fetched from the log a page at a time
while the previous one is being sent (resume after the last line's ``seq``: the cursor
is ``v1.<seq>``); ``Accept: text/csv`` gives a page as CSV with the cursor in the
``X-Next-Cursor`` header. ``profile=viid`` wraps items as GA/T 1400-style list objects.
Every request needs a key with ``passages:read`` (or a staff session that may see the
shift report), and is audited with the caller's name by the key check. A key that also
has ``passages:read-masked-documents`` (a staff role with the audit permission) gets
``document_masked`` and ``document_type`` in every item (null where the document is on
no list); anyone else gets items without those fields. In hub mode a key bound to
compounds (and a staff session of the hub) reads what the edges pushed instead
(``api.web.hub.hub_feed``; ``compound`` narrows it to one).

The items are JSON text from ``gate.app.feed_encoder`` (no dict per row), read and encoded
in the feed's worker processes (``services.feed_lines``, ``gate.runtime.feed_worker``), so
the lanes in this process never wait behind them; NDJSON goes out a page (``MAX_PAGE``
rows, a few megabytes) per chunk, the first read before the answer starts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.deps import machine
from api.i18n import refusal_text
from api.web.deps import current_session, language, web
from api.web.feed_response import NDJSON, lines_response
from api.web.hub import hub_feed
from api.web.machine_auth import machine_or_staff
from gate.app.actor import Actor
from gate.app.district_feed import (
    CSV_COLUMNS,
    DEFAULT_PAGE,
    DOCUMENT_COLUMNS,
    MAX_PAGE,
    CompoundAddress,
    FeedProfile,
    feed_answer,
)
from gate.app.feed_access import key_reads_documents, role_reads_documents
from gate.domain.api_scopes import ApiScope
from gate.domain.errors import ActionRefused

router = APIRouter(prefix="/api/v1")
MAX_STREAM = 1_000_000  # rows in one NDJSON response
FeedCaller = Annotated[Actor, Depends(machine_or_staff(ApiScope.PASSAGES_READ))]


def compound_address(request: Request) -> CompoundAddress:
    """The compound's address as the settings give it."""
    return web(request).services.compound


def reads_documents(request: Request) -> bool:
    """True if the caller (authenticated for the feed already) may see masked numbers."""
    header = request.headers.get("authorization")
    if header is not None:
        key_text = header.strip().partition(" ")[2].strip()
        units = web(request).services.units
        return key_reads_documents(key_text, actor=machine(request), units=units)
    return role_reads_documents(current_session(request).role)


@router.get(
    "/passages",
    responses={
        200: {
            "description": "A page of passages after the cursor, in sequence order",
            "content": {NDJSON: {}, "text/csv": {}},
        },
        401: {"description": "No key, or a revoked or unknown one"},
        403: {"description": "The key lacks passages:read, or may not read the compound"},
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
    compound: Annotated[
        str | None, Query(max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    ] = None,
) -> Response:
    """Passages after ``after`` (none: from the start), never a row twice or skipped."""
    hub = hub_feed(request, after=after, limit=limit, compound=compound, profile=profile)
    if hub is not None:
        return hub
    services = web(request).services
    if compound is not None and compound != services.settings.compound.code:
        refused = ActionRefused("hub_compound_refused", compound=compound)
        detail = {"detail": refusal_text(language(request), refused), "code": refused.code}
        return Response(orjson.dumps(detail), status_code=403, media_type="application/json")
    accept = request.headers.get("accept", "")
    documents = reads_documents(request)
    if "text/csv" in accept and NDJSON not in accept:
        profile = FeedProfile.STANDARD  # the CSV columns are the standard fields
    try:  # a bad cursor fails before streaming; so does a feed that cannot be read (503)
        answer = feed_answer(
            after,
            limit=limit if NDJSON in accept else min(limit, MAX_PAGE),
            source=services.feed_lines,
            profile=profile,
            documents=documents,
            stream=NDJSON in accept,
        )
        if isinstance(answer, Iterator):
            answer = itertools.chain([next(answer)], answer)
    except ActionRefused as refused:
        detail = {"detail": refusal_text(language(request), refused), "code": refused.code}
        return Response(orjson.dumps(detail), status_code=422, media_type="application/json")
    columns = CSV_COLUMNS + DOCUMENT_COLUMNS if documents else CSV_COLUMNS
    if profile is FeedProfile.VIID:
        body = b'{"AccessRecordListObject":{"AccessRecordObject":[%s]},"next_cursor":%s'
    else:
        body = b'{"items":[%s],"next_cursor":%s'
    # The log's latest signed anchor (docs/reliability.md); ASCII JSON with no "%" in it.
    body += b',"anchor":%b}' % (services.anchors.log.latest_json() or b"null")
    return lines_response(accept, answer, csv_columns=columns, json_body=body)
