"""The guard terminal: the live feed, alerts that wait for a decision, visitors, search."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from api.i18n import t
from api.web.deps import (
    language,
    now,
    origin,
    render,
    require,
    require_csrf,
    web,
)
from api.web.feed import feed_item
from gate.app.pipeline import MAX_OVERRIDE_TEXT, OVERRIDE_REASONS
from gate.domain.device_ports import DeviceStatus
from gate.domain.documents import DocumentType
from gate.domain.errors import DocumentInvalid, GateError, NotFound, OverrideRefused
from gate.domain.model import Outcome, PassageRecord
from gate.domain.people import mask_name
from gate.domain.places import room_key
from gate.domain.presence import occupancy
from gate.domain.roles import Permission
from gate.domain.status import LOCAL_TZ, StatusPeriod, current_status, start_of_local_day
from gate.runtime.bootstrap import Station
from registry.accounts import ActiveSession, resolve_session
from registry.controls import find_household, register_visitor
from registry.models import Document, Exemption, Household, Passage, Person, StatusRecord
from registry.passages import SqlPassageLog, unhandled_alerts
from registry.service import audit
from registry.snapshot import home_label

router = APIRouter(prefix="/terminal")
FEED_POLL_SECONDS = 0.3
STATUS_EVERY_SECONDS = 3.0
RECHECK_SESSION_SECONDS = 10.0
ALERT_MEMORY = timedelta(hours=12)

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
        override_reasons=sorted(OVERRIDE_REASONS),
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


def _header(station: Station, lang: str) -> dict[str, Any]:
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
    }


def _items(
    request: Request, station: Station, records: list[PassageRecord], *, handled: set[int]
) -> list[dict[str, Any]]:
    lang = language(request)
    snapshot = station.gate.snapshots.current()
    cards = request.app.state.recent_cards
    return [
        feed_item(
            record,
            lang=lang,
            snapshot=snapshot,
            handled=record.seq in handled,
            card=cards.get(record.seq, now=now()),
        )
        for record in records
    ]


@router.get("/state")
def terminal_state(request: Request, user: Guard) -> dict[str, Any]:
    """The header, the alerts still waiting, the latest passages, and the feed cursor."""
    station = _station(request)
    log = SqlPassageLog(web(request).services.database)
    recent = log.tail(30)
    alerts = unhandled_alerts(web(request).services.database, since=now() - ALERT_MEMORY)
    waiting = {record.seq for record in alerts}
    handled = {r.seq for r in recent if r.entry.decision.outcome is not Outcome.ALLOW} - waiting
    return {
        "header": _header(station, language(request)),
        "alerts": _items(request, station, alerts, handled=set()),
        "recent": _items(request, station, recent, handled=handled),
        "last_seq": recent[-1].seq if recent else 0,
    }


@router.get("/feed")
async def terminal_feed(request: Request, user: Guard, after: int = 0) -> StreamingResponse:
    """Server-sent events: every new passage (from any process) and the header now and then."""
    station = _station(request)
    resume = request.headers.get("last-event-id")
    cursor = int(resume) if resume and resume.isdigit() else after
    log = SqlPassageLog(web(request).services.database)
    token = request.cookies.get("gate_session", "")

    async def events() -> AsyncIterator[str]:
        nonlocal cursor
        last_status = last_check = 0.0
        loop = asyncio.get_running_loop()
        yield "retry: 1000\n\n"
        while not await request.is_disconnected():
            records = await to_thread.run_sync(log.since, cursor)
            for item in _items(request, station, records, handled=set()):
                cursor = item["seq"]
                data = json.dumps(item, ensure_ascii=False)
                yield f"id: {cursor}\nevent: passage\ndata: {data}\n\n"
            moment = loop.time()
            if moment - last_status >= STATUS_EVERY_SECONDS:
                last_status = moment
                header = await to_thread.run_sync(_header, station, language(request))
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
    with context.services.database.session() as db:
        active = resolve_session(
            db, token=token, now=now(), idle_lock=context.idle_lock, touch=False
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
    seq: int,
    form: OverrideForm,
    user: Annotated[ActiveSession, Depends(require_csrf(Permission.OVERRIDE))],
) -> Response:
    """Admit or deny, with a reason code and text; logged as its own row."""
    station = _station(request)
    try:
        result = station.gate.pipeline.override(
            seq,
            outcome=form.outcome,
            reason_code=form.reason_code,
            text=form.text,
            guard=user.username,
        )
    except (OverrideRefused, NotFound) as refused:
        _audit_refusal(request, user, f"passage:{seq}", str(refused))
        return JSONResponse({"detail": str(refused)}, status_code=409)
    with web(request).services.database.session() as db:
        audit(
            db,
            actor=user.username,
            origin=origin(request),
            action="passage.override",
            target=f"passage:{seq}",
            at=now(),
            detail={"outcome": form.outcome.value, "reason": form.reason_code},
        )
    assert result.record is not None
    return JSONResponse(_items(request, station, [result.record], handled=set())[0])


def _audit_refusal(request: Request, user: ActiveSession, target: str, why: str) -> None:
    with web(request).services.database.session() as db:
        audit(
            db,
            actor=user.username,
            origin=origin(request),
            action="action.refused",
            target=target,
            at=now(),
            detail={"reason": why[:200]},
        )


@router.post("/visitors")
def register_visitor_form(
    request: Request,
    user: Annotated[ActiveSession, Depends(require_csrf(Permission.REGISTER_VISITOR))],
    host: Annotated[str, Form(max_length=40)],
    reason: Annotated[str, Form(min_length=1, max_length=200)],
    hours: Annotated[float, Form(ge=0.25, le=24 * 7)] = 4.0,
    seq: Annotated[int | None, Form()] = None,
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
    parts = host.replace("/", "-").split("-")
    moment = now()
    try:
        if len(parts) != 3:
            raise NotFound(t(lang, "visitor.host"))
        with web(request).services.database.session() as db:
            household = find_household(db, building=parts[0], unit=parts[1], room=parts[2])
            visitor = register_visitor(
                db,
                cipher=web(request).services.cipher,
                name=name,
                doc_type=doc_type,
                number=number,
                host=household,
                reason=reason,
                starts_at=moment,
                ends_at=moment + timedelta(hours=hours),
                actor=user.username,
                origin=origin(request),
                now=moment,
            )
            until = visitor.ends_at
    except (GateError, DocumentInvalid, ValueError) as problem:
        _audit_refusal(request, user, "visitor", str(problem))
        return JSONResponse({"detail": str(problem)}, status_code=422)
    station.gate.snapshots.reload()
    admitted = None
    if seq is not None:
        try:
            result = station.gate.pipeline.override(
                seq,
                outcome=Outcome.ALLOW,
                reason_code="visitor_registered",
                text=reason,
                guard=user.username,
            )
            admitted = result.record.seq if result.record else None
        except (OverrideRefused, NotFound):
            admitted = None
    local_until = until.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")
    return JSONResponse(
        {"message": t(lang, "visitor.done", until=local_until), "override_seq": admitted}
    )


@router.get("/search")
def search(
    request: Request,
    user: Annotated[ActiveSession, Depends(require(Permission.SEARCH_PERSONS))],
    q: str = "",
) -> dict[str, Any]:
    """Persons by name, room ("3-2-502" or "502"), or the last four of a document."""
    query = q.strip()[:40]
    if not query:
        return {"results": []}
    lang = language(request)
    moment = now()
    conditions = [Person.name.contains(query)]
    if len(query) == 4:
        conditions.append(Person.documents.any(Document.number_last4 == query.upper()))
    room = query.split("-")[-1]
    if room.isdigit():
        conditions.append(Person.household.has(Household.room == room_key(room)))
    with web(request).services.database.session() as db:
        persons = db.scalars(
            select(Person)
            .where(or_(*conditions), Person.moved_out_at.is_(None))
            .options(selectinload(Person.statuses), selectinload(Person.household))
            .limit(20)
        ).all()
        results = []
        midnight = start_of_local_day(moment.astimezone(LOCAL_TZ).date())
        for person in persons:
            status = current_status([_period(record) for record in person.statuses], moment)
            exemptions = db.scalars(
                select(Exemption).where(
                    Exemption.person_id == person.id,
                    or_(Exemption.expires_at.is_(None), Exemption.expires_at > moment),
                )
            ).all()
            today = db.scalars(
                select(Passage)
                .where(Passage.person_ref == person.ref, Passage.at >= midnight)
                .order_by(Passage.seq)
            ).all()
            results.append(
                {
                    "name": mask_name(person.name),
                    "home": home_label(person.household),
                    "status": status.value,
                    "status_text": t(lang, f"status.{status.value}"),
                    "exemptions": [{"rules": e.rule_ids, "reason": e.reason} for e in exemptions],
                    "today": [
                        {
                            "time": p.at.astimezone(LOCAL_TZ).strftime("%H:%M"),
                            "direction": t(lang, f"direction.{p.direction}"),
                            "outcome": t(lang, f"outcome.{p.outcome}"),
                        }
                        for p in today
                    ],
                }
            )
    return {"results": results}


def _period(record: StatusRecord) -> StatusPeriod:
    return StatusPeriod(record.status, record.starts_at, record.ends_at)
