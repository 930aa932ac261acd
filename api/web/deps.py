"""Sessions, roles, CSRF and language for the pages; refusals are audited.

Every page and form goes through ``require(permission)``; every POST also through
``csrf_checked``. A refusal changes nothing and leaves an audit row saying who tried what.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Path as PathParam
from fastapi import Query, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from api.i18n import DEFAULT_LANGUAGE, LANGUAGES, reason_text, t
from api.web.import_staging import StagedImports
from gate.app.actor import Actor, Scope
from gate.app.passage_tail import PassageTail
from gate.app.place_codes import PlaceCodes
from gate.app.staff import SESSION_LIFETIME, record_denial, resolve_session
from gate.app.staff_values import ActiveSession
from gate.app.throttle import LoginThrottle, SubmissionThrottle
from gate.domain.roles import Permission, allowed
from gate.runtime.bootstrap import Services, Station

SESSION_COOKIE = "gate_session"
# The largest row id or sequence number the databases hold (a signed 64-bit integer):
# a larger one in a path or a query is refused before it reaches a query.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID)]
Cursor = Annotated[int, Query(ge=0, le=MAX_ROW_ID)]
LANG_COOKIE = "gate_lang"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


class AuthRequired(Exception):
    """No valid session: sign in first."""


class Forbidden(Exception):
    """The session's role may not do this."""


class SessionLocked(Exception):
    """The session is idle-locked: PIN first."""


class CsrfRejected(Exception):
    """A form without its CSRF token (or with a wrong one)."""


class BadInput(Exception):
    """A value the page cannot read (a header, a cursor): 422 with ``error.bad_input``."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(field)


def csrf_matches(sent: str | None, expected: str) -> bool:
    """True if ``sent`` is the session's token; any text, even non-ASCII, compared in time."""
    if not sent:
        return False
    # compare_digest refuses str with non-ASCII characters: compare the bytes instead.
    return secrets.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode())


def row_id(text: str | None, *, field: str) -> int | None:
    """A row id or sequence number sent as text (a header), None if absent; ``BadInput`` else."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or int(value) > MAX_ROW_ID:
        raise BadInput(field)
    return int(value)


@dataclass
class WebContext:
    """What the pages need from the composition root."""

    services: Services
    station: Station | None
    templates: Jinja2Templates
    idle_lock: timedelta
    secure_cookies: bool | Literal["auto"]
    passage_tail: PassageTail  # the newest passages, read once for every terminal's live feed
    session_lifetime: timedelta = SESSION_LIFETIME
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    login_origins: frozenset[str] = frozenset()  # besides the service's own
    visit_throttle: SubmissionThrottle = field(default_factory=SubmissionThrottle)
    # Invites, place-code passages and host decisions: a phone does a few a minute at most.
    pass_throttle: SubmissionThrottle = field(
        default_factory=lambda: SubmissionThrottle(limit=20, window=timedelta(minutes=1))
    )
    place_codes: PlaceCodes = field(default_factory=PlaceCodes)
    # Uploads whose columns the office is mapping (``api.web.office_io``).
    staged_imports: StagedImports = field(default_factory=StagedImports)
    # Each API key's requests (``api.requests_per_minute``; create_app sets the limit).
    api_throttle: SubmissionThrottle = field(
        default_factory=lambda: SubmissionThrottle(limit=600, window=timedelta(minutes=1))
    )


def web(request: Request) -> WebContext:
    """The web context of this app."""
    context = request.app.state.web
    assert isinstance(context, WebContext)
    return context


def language(request: Request) -> str:
    """The language the user chose (cookie), Chinese by default."""
    chosen = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def client_address(request: Request) -> str:
    """The client's address: the peer, or what a trusted proxy forwarded (``app.py``)."""
    return request.client.host if request.client else "unknown"


def origin(request: Request) -> str:
    """Where a request comes from, for the audit log."""
    return f"web@{client_address(request)}"


def secure_cookies(request: Request) -> bool:
    """Whether cookies are marked Secure: as configured, or ``auto``: the browser used TLS.

    The scheme is the connection's, or a trusted proxy's ``X-Forwarded-Proto``.
    """
    configured = web(request).secure_cookies
    return request.url.scheme == "https" if configured == "auto" else configured


def now() -> datetime:
    """The web layer's clock."""
    return datetime.now(UTC)


def actor(request: Request, user: ActiveSession, scope: Scope | None = None) -> Actor:
    """The signed-in account as the actor of a use case, now, from this request's address."""
    return Actor(name=user.username, origin=origin(request), at=now(), scope=scope or Scope())


def caller(request: Request, name: str = "") -> Actor:
    """Whoever sends a request before it has a session (a sign-in names the typed user)."""
    return Actor(name=name[:100], origin=origin(request), at=now())


def current_session(request: Request, *, allow_locked: bool = False) -> ActiveSession:
    """The signed-in session; ``AuthRequired`` / ``SessionLocked`` otherwise."""
    cached = getattr(request.state, "session", None)
    if isinstance(cached, ActiveSession):
        active: ActiveSession | None = cached
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise AuthRequired
        context = web(request)
        active = resolve_session(
            token,
            idle_lock=context.idle_lock,
            lifetime=context.session_lifetime,
            actor=caller(request),
            units=context.services.units,
        )
        if active is None:
            raise AuthRequired
        request.state.session = active
    assert active is not None
    if active.locked and not allow_locked:
        raise SessionLocked
    return active


def deny(request: Request, user: ActiveSession, what: str, **detail: Any) -> None:
    """Audit a refused attempt (the caller then raises)."""
    record_denial(
        what,
        {"path": request.url.path, "method": request.method, **detail},
        actor=actor(request, user),
        units=web(request).services.units,
    )


def require(permission: Permission) -> Callable[[Request], ActiveSession]:
    """A dependency: the session, if its role carries ``permission``."""

    def dependency(request: Request) -> ActiveSession:
        user = current_session(request)
        if not allowed(user.role, permission):
            deny(request, user, f"permission:{permission.value}", role=user.role.value)
            raise Forbidden
        return user

    return dependency


def require_csrf(
    permission: Permission,
) -> Callable[[Request], Coroutine[Any, Any, ActiveSession]]:
    """A dependency for POSTs: permission plus a matching CSRF token (form field or header)."""
    check = require(permission)

    async def dependency(request: Request) -> ActiveSession:
        user = check(request)
        sent = request.headers.get("x-csrf-token")
        if sent is None:
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
        if not csrf_matches(sent, user.csrf_token):
            deny(request, user, "csrf", reason="missing or wrong token")
            raise CsrfRejected
        return user

    return dependency


def render(
    request: Request,
    template: str,
    user: ActiveSession | None,
    status_code: int = 200,
    **values: Any,
) -> Response:
    """A page in the user's language."""
    lang = language(request)
    response: Response = web(request).templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": partial(t, lang),
            "reason_text": partial(reason_text, lang),
            "user": user,
            "allowed": (lambda p: allowed(user.role, Permission(p))) if user else (lambda p: False),
            **values,
        },
        status_code=status_code,
    )
    return response
