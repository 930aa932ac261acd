"""Security headers on every response; a Content-Security-Policy on every page.

No page runs inline script (``api/static/page.js`` holds what used to be inline, the
terminal's texts travel as a JSON data block), so the policy forbids it: a script that an
attacker gets into a page (a name, a reason, a visitor's text) does not run. Frames are
refused (``frame-ancestors 'none'``: the terminal cannot be framed for clickjacking), a
response is never sniffed into another type, and no address leaks to other sites in a
Referer. The interactive API docs (``/docs``, Swagger UI) need inline script and get a
policy of their own.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # style attributes and <style> blocks in pages
        "img-src 'self' data: blob:",  # QR codes are drawn as data: images
        "connect-src 'self'",
        "worker-src 'self'",  # the phone pass's service worker
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
DOCS_POLICY = PAGE_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


class SecurityHeaders:
    """ASGI middleware: ``ALWAYS`` on every response, the CSP on HTML ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope.get("path") == "/docs" else PAGE_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                headers += [(name, value) for name, value in ALWAYS if name not in present]
                content_type = next(
                    (value for name, value in headers if name.lower() == b"content-type"), b""
                )
                if content_type.startswith(b"text/html"):
                    headers.append((b"content-security-policy", policy.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
