"""Refuse a NUL character in any text a page request carries, before a handler sees it.

PostgreSQL cannot store a NUL in text (psycopg raises), SQLite cuts strings at it in
places, and no name, room, note or search ever holds one; so a NUL in the path, the query
string, a urlencoded form or a JSON body is answered 422 (``error.bad_input`` in the
page's language) here, once, instead of a 500 wherever it would reach a query. Multipart
bodies are left alone: their files (photos, spreadsheets) are binary; so is ``/api/``,
whose routes validate each field themselves.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

_TEXT_BODIES = (b"application/x-www-form-urlencoded", b"application/json")
_NUL_MARKS = (b"\x00", b"%00", b"\\u0000")


def _has_nul(data: bytes) -> bool:
    lowered = data.lower()
    return any(mark in lowered for mark in _NUL_MARKS)


class RefuseNul:
    """ASGI middleware: 422 for a NUL in the path, the query or a text body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The machine API validates its own fields (and schemathesis holds it to its schema,
        # in which a NUL is a valid character of a string): the pages only.
        if scope["type"] != "http" or scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if _has_nul(scope.get("raw_path") or b"") or _has_nul(scope.get("query_string", b"")):
            await _refuse(send, headers)
            return
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type not in _TEXT_BODIES:
            await self.app(scope, receive, send)
            return
        # A text body is small (BodyLimit caps it further out): read it, look, replay it.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _has_nul(body):
            await _refuse(send, headers)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _language(headers: dict[bytes, bytes]) -> str:
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:
        return DEFAULT_LANGUAGE
    chosen = cookie.get("gate_lang")
    return chosen.value if chosen and chosen.value in LANGUAGES else DEFAULT_LANGUAGE


async def _refuse(send: Send, headers: dict[bytes, bytes]) -> None:
    body = json.dumps(
        {"detail": t(_language(headers), "error.bad_input"), "fields": []}, ensure_ascii=False
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
