"""The guard terminal: the live feed, alerts that wait for a decision, visitors, search."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from api.i18n import refusal_text, t
from api.web.deps import (
    MAX_ROW_ID,
    Cursor,
    RowId,
    actor,
    caller,
    language,
    now,
    render,
    require,
    require_csrf,
    row_id,
    web,
)
from api.web.feed import feed_item
from gate.app.control_ports import CLEARED, ControlChange
from gate.app.controls import recent_control_changes
from gate.app.passages import OverridePassage, override_passage
from gate.app.pipeline import MAX_OVERRIDE_TEXT, NOT_THIS_PERSON, OVERRIDE_REASONS
from gate.app.search import search_persons
from gate.app.staff import resolve_session
from gate.app.staff_values import ActiveSession
from gate.app.sync_status import UPSTREAM, relay_lags, upstream_lag
from gate.app.visit_requests import decide_as_guard, pending_visits
from gate.app.visitors import RegisterVisitor, register_visitor
from gate.domain.device_ports import DeviceStatus
from gate.domain.documents import DocumentType
from gate.domain.errors import GateError, NotFound, OverrideRefused
from gate.domain.model import CredentialKind, Outcome, PassageRecord
from gate.domain.people import mask_name
from gate.domain.presence import occupancy
from gate.domain.roles import Permission
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Station

router = APIRouter(prefix="/terminal")
FEED_POLL_SECONDS = 0.3
STATUS_EVERY_SECONDS = 3.0
RECHECK_SESSION_SECONDS = 10.0
ALERT_MEMORY = timedelta(hours=12)
CONTROL_MEMORY = timedelta(hours=24)  # how long a district list change stays in the header
CONTROL_LINES = 12  # the latest changes shown; the count says "12+" when there were more

Guard = Annotated[ActiveSession, Depends(require(Permission.TERMINAL))]


def _station(request: Request) -> Station:
    station = web(request).station
    if station is None:
        raise HTTPException(503, "the gate is not running in this process")
    return station


@router.get("")
def terminal_page(request: Request, user: Guard) -> Response:
    """The terminal page; everything on it comes live from /terminal/state and /feed."""
    return render(
        request,
        "terminal.html",
        user,
        # "Not this person" has its own key (N) on a face passage, not a line in the dialog.
        override_reasons=sorted(OVERRIDE_REASONS - {NOT_THIS_PERSON}),
        doc_types=[d.value for d in DocumentType],
    )


def _device(status: DeviceStatus, lang: str, silence: float) -> dict[str, Any]:
    # A feed that has gone quiet is shown as offline even while its port is still open.
    silent = status.silent_for is not None and status.silent_for > silence
    state = "offline" if silent else status.health.state.value
    return {
        "lane": status.lane,
        "kind": status.kind,
        "label": t(lang, f"device.{status.kind}"),
        "state": state,
        "state_text": t(lang, f"device.state.{state}"),
        "detail": f"silent {status.silent_for:.0f} s" if silent else status.health.detail,
    }


def _requests(request: Request, lang: str) -> list[dict[str, Any]]:
    """Visitors who registered on their phones and wait for the host or a guard."""
    waiting = pending_visits(actor=caller(request), units=web(request).services.units)
    return [
        {
            "key": f"v:{visit.ref}",
            "ref": visit.ref,
            "name": mask_name(visit.name),
            "time": visit.registered_at.astimezone(LOCAL_TZ).strftime("%H:%M"),
            "summary": t(
                lang,
                "terminal.request.summary",
                host=visit.host_label or "",
                reason=visit.reason,
                hours=f"{visit.stay_minutes / 60:g}",
            ),
            "doc_last4": visit.doc_last4,
            "phone_last4": visit.phone_last4,
        }
        for visit in waiting
    ]


def _control_change(change: ControlChange, lang: str) -> dict[str, Any]:
    """One district list change as the guard reads it: who (masked), home, the new status."""
    if change.status == CLEARED:
        status = t(
            lang, "terminal.controls.cleared" if change.person else "terminal.controls.ended"
        )
    else:
        status = t(lang, f"status.{change.status}")
    person = change.person
    return {
        "key": change.reference,
        "time": change.changed_at.astimezone(LOCAL_TZ).strftime("%H:%M"),
        "name": mask_name(person.name) if person else t(lang, "terminal.controls.watch"),
        "home": person.household.label if person and person.household else "",
        "status": status,
        "status_code": change.status,
    }


def _controls(request: Request, lang: str) -> list[dict[str, Any]]:
    """What the district's control lists changed in the last ``CONTROL_MEMORY``."""
    changes = recent_control_changes(
        since=now() - CONTROL_MEMORY,
        actor=caller(request),
        units=web(request).services.units,
        limit=CONTROL_LINES + 1,
    )
    return [_control_change(change, lang) for change in changes]


def _upstream(request: Request, lang: str) -> dict[str, Any] | None:
    """A warning when the hub has fallen behind by more than the threshold, else None."""
    services = web(request).services
    upstream = services.settings.upstream
    if upstream.url is None:
        return None
    lags = relay_lags(
        cursors=services.delivery_cursors, passages=services.passages, expected=[UPSTREAM]
    )
    lag = upstream_lag(lags)
    moment = now()
    if lag is None or lag.lag(moment) <= timedelta(seconds=upstream.lag_warning_seconds):
        return None
    since = lag.oldest_pending_at.astimezone(LOCAL_TZ) if lag.oldest_pending_at else moment
    return {
        "behind": lag.behind,
        "text": t(lang, "terminal.upstream_late", count=lag.behind, since=f"{since:%m-%d %H:%M}"),
    }


def _clock(station: Station, lang: str) -> dict[str, Any] | None:
    """A warning when this clock was found off by more than ``[clock] alarm_seconds``."""
    watch = station.clock_watch
    alarm = watch.alarm() if watch is not None else None
    if alarm is None:
        return None
    key = "terminal.clock_behind" if alarm.offset_seconds > 0 else "terminal.clock_ahead"
    return {
        "offset_seconds": round(alarm.offset_seconds, 1),
        "text": t(
            lang,
            key,
            seconds=f"{abs(alarm.offset_seconds):.0f}",
            source=alarm.source,
            at=f"{alarm.at.astimezone(LOCAL_TZ):%H:%M}",
        ),
    }


def _header(station: Station, lang: str, request: Request) -> dict[str, Any]:
    controls = _controls(request, lang)
    silence = station.watch.silence_after.total_seconds()
    snapshot = station.gate.snapshots.current()
    counts = occupancy(snapshot, now=now())
    return {
        "devices": [_device(status, lang, silence) for status in station.watch.statuses()],
        "occupancy": t(lang, "terminal.occupancy", inside=counts.inside, outside=counts.outside),
        "quarantined_outside": [
            {"name": mask_name(person.name), "home": person.home}
            for person in counts.quarantined_outside
        ],
        "quarantined_text": t(
            lang, "terminal.quarantined_outside", count=len(counts.quarantined_outside)
        ),
        "requests": _requests(request, lang),
        "upstream": _upstream(request, lang),
        "clock": _clock(station, lang),
        "controls": controls[:CONTROL_LINES],
        "controls_text": t(
            lang,
            "terminal.controls",
            count=f"{CONTROL_LINES}+" if len(controls) > CONTROL_LINES else len(controls),
        ),
    }


def _items(
    request: Request, station: Station, records: list[PassageRecord], *, handled: set[int]
) -> list[dict[str, Any]]:
    lang = language(request)
    snapshot = station.gate.snapshots.current()
    cards = request.app.state.recent_cards
    candidates = [
        r.entry.person_ref
        for r in records
        if r.entry.credential_kind is CredentialKind.FACE and r.entry.person_ref
    ]
    corrections = web(request).services.face_passages.corrections_of(candidates)
    return [
        feed_item(
            record,
            lang=lang,
            snapshot=snapshot,
            handled=record.seq in handled,
            card=cards.get(record.seq, now=now()),
            corrections=corrections.get(record.entry.person_ref or "", 0),
        )
        for record in records
    ]


@router.get("/state")
def terminal_state(request: Request, user: Guard) -> dict[str, Any]:
    """The header, the alerts still waiting, the latest passages, and the feed cursor."""
    station = _station(request)
    passages = web(request).services.passages
    recent = passages.tail(30)
    alerts = passages.unhandled(since=now() - ALERT_MEMORY)
    waiting = {record.seq for record in alerts}
    handled = {r.seq for r in recent if r.entry.decision.outcome is not Outcome.ALLOW} - waiting
    return {
        "header": _header(station, language(request), request),
        "alerts": _items(request, station, alerts, handled=set()),
        "recent": _items(request, station, recent, handled=handled),
        "last_seq": recent[-1].seq if recent else 0,
    }


@router.get("/feed")
async def terminal_feed(request: Request, user: Guard, after: Cursor = 0) -> StreamingResponse:
    """Server-sent events: every new passage (from any process) and the header now and then."""
    station = _station(request)
    resume = row_id(request.headers.get("last-event-id"), field="Last-Event-ID")
    cursor = after if resume is None else resume
    tail = web(request).passage_tail
    token = request.cookies.get("gate_session", "")

    async def events() -> AsyncIterator[str]:
        nonlocal cursor
        last_status = last_check = 0.0
        loop = asyncio.get_running_loop()
        yield "retry: 1000\n\n"
        while not await request.is_disconnected():
            records = await to_thread.run_sync(tail.since, cursor)
            for item in _items(request, station, records, handled=set()):
                cursor = item["seq"]
                data = json.dumps(item, ensure_ascii=False)
                yield f"id: {cursor}\nevent: passage\ndata: {data}\n\n"
            moment = loop.time()
            if moment - last_status >= STATUS_EVERY_SECONDS:
                last_status = moment
                header = await to_thread.run_sync(_header, station, language(request), request)
                yield f"event: status\ndata: {json.dumps(header, ensure_ascii=False)}\n\n"
            if moment - last_check >= RECHECK_SESSION_SECONDS:
                last_check = moment
                if not await to_thread.run_sync(_still_valid, request, token):
                    yield "event: signed_out\ndata: {}\n\n"
                    return
            await asyncio.sleep(FEED_POLL_SECONDS)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _still_valid(request: Request, token: str) -> bool:
    context = web(request)
    active = resolve_session(
        token,
        idle_lock=context.idle_lock,
        lifetime=context.session_lifetime,
        touch=False,
        actor=caller(request),
        units=context.services.units,
    )
    return active is not None and not active.locked


class OverrideForm(BaseModel):
    """A guard's decision on a review or denial."""

    outcome: Outcome
    reason_code: str = Field(max_length=32)
    text: str = Field(max_length=MAX_OVERRIDE_TEXT)


@router.post("/passages/{seq}/override")
def override(
    request: Request,
    seq: RowId,
    form: OverrideForm,
    user: Annotated[ActiveSession, Depends(require_csrf(Permission.OVERRIDE))],
) -> Response:
    """Admit or deny, with a reason code and text; logged as its own row (audited)."""
    station = _station(request)
    try:
        result = override_passage(
            OverridePassage(seq, form.outcome, form.reason_code, form.text),
            actor=actor(request, user),
            units=web(request).services.units,
            pipeline=station.gate.pipeline,
            faces=web(request).services.face_passages,
        )
    except (OverrideRefused, NotFound) as refused:
        return JSONResponse({"detail": refusal_text(language(request), refused)}, 409)
    assert result.record is not None
    return JSONResponse(_items(request, station, [result.record], handled=set())[0])


PICTURE_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


@router.get("/face-snapshots/{ref}")
def face_snapshot(request: Request, ref: str, user: Guard) -> Response:
    """The camera picture of a face passage (kept 72 hours for an unknown face)."""
    image = web(request).services.face_passages.image(ref[:36])
    if image is None:
        raise HTTPException(404, "no such snapshot (deleted after its retention?)")
    return Response(image, media_type="image/jpeg", headers=PICTURE_HEADERS)


@router.get("/face-photos/{ref}")
def face_photo(request: Request, ref: str, user: Guard) -> Response:
    """The enrolment photo of a face passage's candidate (a person ref), beside the camera's."""
    image = web(request).services.face_store.photo_of_person(ref[:36])
    if image is None:
        raise HTTPException(404, "no enrolment photo for this person")
    return Response(image, media_type="image/jpeg", headers=PICTURE_HEADERS)


@router.get("/place-codes")
def place_codes(request: Request, user: Guard) -> dict[str, Any]:
    """Each lane's place code for this step: a link a resident's phone camera opens."""
    context = web(request)
    lang = language(request)
    base = str(request.base_url).rstrip("/")
    moment = now()
    codes = []
    for lane in context.services.settings.gate.lanes:
        code = context.place_codes.code(lane.id, moment)
        query = urlencode({"lane": lane.id, "t": code.token})
        codes.append(
            {
                "lane": lane.id,
                "direction_text": t(lang, f"direction.{lane.direction}"),
                "url": f"{base}/pass/here?{query}",
                "renew_at": code.renew_at.isoformat(),
            }
        )
    return {"codes": codes}


class RequestDecision(BaseModel):
    """A guard's answer to a visit request."""

    approve: bool


@router.post("/visit-requests/{ref}")
def decide_request(
    request: Request,
    ref: str,
    decision: RequestDecision,
    user: Annotated[ActiveSession, Depends(require_csrf(Permission.REGISTER_VISITOR))],
) -> Response:
    """Approve (the visit starts now, the visitor's phone gets its pass) or decline."""
    station = _station(request)
    services = web(request).services
    try:
        decided = decide_as_guard(
            ref[:36],
            approve=decision.approve,
            actor=actor(request, user),
            units=services.units,
            signer=services.pass_signer,
            pipeline=station.gate.pipeline,
        )
    except GateError as refused:
        return JSONResponse({"detail": refusal_text(language(request), refused)}, 409)
    return JSONResponse({"ref": decided.ref, "status": decided.status})


@router.post("/visitors")
def register_visitor_form(
    request: Request,
    user: Annotated[ActiveSession, Depends(require_csrf(Permission.REGISTER_VISITOR))],
    host: Annotated[str, Form(max_length=40)],
    reason: Annotated[str, Form(min_length=1, max_length=200)],
    hours: Annotated[float, Form(ge=0.25, le=24 * 7)] = 4.0,
    seq: Annotated[int | None, Form(ge=1, le=MAX_ROW_ID)] = None,
    name: Annotated[str, Form(max_length=100)] = "",
    doc_type: Annotated[DocumentType, Form()] = DocumentType.RESIDENT_ID,
    number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Register a visitor (from a swipe's card, or typed) and admit the waiting swipe."""
    station = _station(request)
    lang = language(request)
    card = request.app.state.recent_cards.get(seq, now=now()) if seq is not None else None
    if card is not None:
        doc_type, number, name = card.doc_type, card.number, name or card.name or ""
    command = RegisterVisitor(
        name=name,
        doc_type=doc_type,
        number=number,
        host=host,
        reason=reason,
        hours=hours,
        admit_seq=seq,
    )
    try:
        registered = register_visitor(
            command,
            actor=actor(request, user),
            units=web(request).services.units,
            pipeline=station.gate.pipeline,
        )
    except GateError as refused:
        return JSONResponse({"detail": refusal_text(lang, refused)}, status_code=422)
    local_until = registered.visitor.ends_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")
    return JSONResponse(
        {
            "message": t(lang, "visitor.done", until=local_until),
            "override_seq": registered.admitted_seq,
        }
    )


@router.get("/search")
def search(
    request: Request,
    user: Annotated[ActiveSession, Depends(require(Permission.SEARCH_PERSONS))],
    q: str = "",
) -> dict[str, Any]:
    """Persons by name, room ("3-2-502" or "502"), or the last four of a document."""
    lang = language(request)
    services = web(request).services
    found = search_persons(
        q, actor=actor(request, user), units=services.units, passages=services.passages
    )
    return {
        "results": [
            {
                "name": mask_name(match.person.name),
                "home": match.person.household.label if match.person.household else None,
                "status": match.status.value,
                "status_text": t(lang, f"status.{match.status.value}"),
                "exemptions": [
                    {"rules": list(line.rule_ids), "reason": line.reason}
                    for line in match.exemptions
                ],
                "today": [
                    {
                        "time": record.entry.at.astimezone(LOCAL_TZ).strftime("%H:%M"),
                        "direction": t(lang, f"direction.{record.entry.direction.value}"),
                        "outcome": t(lang, f"outcome.{record.entry.decision.outcome.value}"),
                    }
                    for record in match.today
                ],
            }
            for match in found
        ]
    }
