"""How the pages answer a refusal: sign in, unlock, not allowed, expired form."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.i18n import t
from api.web.deps import (
    AuthRequired,
    CsrfRejected,
    Forbidden,
    SessionLocked,
    current_session,
    deny,
    language,
    render,
)
from gate.domain.errors import NotFound, OutOfScope


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def install_page_errors(app: FastAPI) -> None:
    """Register the handlers of the page-level refusals."""

    @app.exception_handler(AuthRequired)
    async def _auth_required(request: Request, _exc: AuthRequired) -> Response:
        if _wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return JSONResponse({"detail": "sign in first"}, status_code=401)

    @app.exception_handler(SessionLocked)
    async def _locked(request: Request, _exc: SessionLocked) -> Response:
        if _wants_html(request):
            user = current_session(request, allow_locked=True)
            return render(request, "unlock.html", user, status_code=423, next_page=request.url.path)
        return JSONResponse({"detail": "locked: unlock with the PIN"}, status_code=423)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, _exc: Forbidden) -> Response:
        message = t(language(request), "error.forbidden")
        if _wants_html(request):
            user = current_session(request, allow_locked=True)
            return render(
                request, "error.html", user, status_code=403, status_code_text=403, message=message
            )
        return JSONResponse({"detail": message}, status_code=403)

    @app.exception_handler(OutOfScope)
    async def _out_of_scope(request: Request, exc: OutOfScope) -> Response:
        # A building head reaching for another building: audited, then "not allowed".
        user = current_session(request, allow_locked=True)
        await run_in_threadpool(
            deny,
            request,
            user,
            exc.target,
            role=user.role.value,
            buildings=list(user.building_keys),
        )
        return await _forbidden(request, Forbidden())

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        message = t(language(request), "error.not_found")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        user = current_session(request, allow_locked=True)
        return render(
            request, "error.html", user, status_code=404, status_code_text=404, message=message
        )

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _exc: CsrfRejected) -> Response:
        return JSONResponse({"detail": t(language(request), "error.csrf")}, status_code=403)
