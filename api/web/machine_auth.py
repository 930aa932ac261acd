"""Who may call ``/api/v1``: a machine with an API key, or a signed-in staff member.

Every ``/api/v1`` route depends on ``machine_or_staff(scope)``. A request with
``Authorization: Bearer KEY`` is the key's (``gate.app.api_keys.authenticate``: checked,
rate-limited per key, its use audited); a request without one needs a staff session
whose role carries the scope's permission (``gate.domain.api_scopes.STAFF_PERMISSION``).
Nobody else gets an answer: 401 with ``WWW-Authenticate: Bearer``, 403 for a missing
scope or permission, 429 with ``Retry-After`` over the rate. The hub's routes depend on
``caller_with_compounds(scope)``: the same checks, and the compounds the key is bound to
(a staff session: None, every compound).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from api.deps import machine
from api.i18n import refusal_text
from api.web.deps import AuthRequired, Forbidden, actor, current_session, deny, language, web
from gate.app.actor import Actor
from gate.app.api_keys import (
    ApiKeyInvalid,
    ApiRateLimited,
    ApiScopeMissing,
    authenticate_caller,
)
from gate.domain.api_scopes import STAFF_PERMISSION, ApiScope
from gate.domain.errors import ActionRefused
from gate.domain.roles import allowed


@dataclass(frozen=True)
class CompoundCaller:
    """A caller and the compounds its key is bound to (None: a staff session, all)."""

    actor: Actor
    compounds: frozenset[str] | None


def _authorized(request: Request, scope: ApiScope) -> CompoundCaller:
    header = request.headers.get("authorization")
    if header is not None:
        kind, _, text = header.strip().partition(" ")
        if kind.lower() != "bearer" or not text.strip():
            raise ApiKeyInvalid
        caller = machine(request)
        context = web(request)
        key = authenticate_caller(
            text.strip(),
            scope,
            path=request.url.path,
            actor=caller,
            units=context.services.units,
            throttle=context.api_throttle,
        )
        return CompoundCaller(replace(caller, name=key.name), key.compounds)
    try:
        user = current_session(request)
    except AuthRequired:
        raise ApiKeyInvalid("api_key_required") from None
    permission = STAFF_PERMISSION[scope]
    if not allowed(user.role, permission):
        deny(request, user, f"permission:{permission.value}", role=user.role.value)
        raise Forbidden
    return CompoundCaller(actor(request, user), None)


def machine_or_staff(scope: ApiScope) -> Callable[[Request], Actor]:
    """A dependency: the caller as an ``Actor`` if their key or role allows ``scope``."""

    def dependency(request: Request) -> Actor:
        return _authorized(request, scope).actor

    return dependency


def caller_with_compounds(scope: ApiScope) -> Callable[[Request], CompoundCaller]:
    """A dependency: the caller if their key or role allows ``scope``, with its compounds."""

    def dependency(request: Request) -> CompoundCaller:
        return _authorized(request, scope)

    return dependency


def _body(request: Request, problem: ActionRefused) -> dict[str, str]:
    return {"detail": refusal_text(language(request), problem), "code": problem.code}


def install_api_errors(app: FastAPI) -> None:
    """Register the answers of a refused API caller (401, 403, 429)."""

    @app.exception_handler(ApiKeyInvalid)
    async def _invalid(request: Request, exc: ApiKeyInvalid) -> Response:
        headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse(_body(request, exc), status_code=401, headers=headers)

    @app.exception_handler(ApiScopeMissing)
    async def _scope(request: Request, exc: ApiScopeMissing) -> Response:
        return JSONResponse(_body(request, exc), status_code=403)

    @app.exception_handler(ApiRateLimited)
    async def _limited(request: Request, exc: ApiRateLimited) -> Response:
        headers = {"Retry-After": str(exc.seconds)}
        return JSONResponse(_body(request, exc), status_code=429, headers=headers)
