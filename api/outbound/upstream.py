"""Store-and-forward: this gate's passages pushed to a district hub, in order, once.

The hub's protocol (docs/hub.md): ``POST <hub>/api/v1/ingest`` with this compound's key
and ``{"compound_id", "items": [feed items in seq order]}``; the hub stores each item once
by ``uuid`` and answers ``{"accepted", "duplicates", "acknowledged_seq"}``. A ``409`` with
``{"expected_after": L}`` says the hub holds this compound only up to ``L``: the relay
sends again from there. ``GET <hub>/api/v1/ingest/cursor?compound_id=`` tells where a
gate that was never connected (or lost its own cursor) resumes.

An item sent later than ``REPLAYED_AFTER`` after its passage is flagged ``replayed``: it
reached the district after an outage, not as it happened.

Each push carries the log's latest anchor (a signed checkpoint of its head,
``gate.domain.anchors``) in the ``X-Gate-Log-Anchor`` header: a copy the gate cannot take
back once the hub has it. A header, not a body field, so a hub that does not keep anchors
yet takes the push as before.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from gate.app.outbound import DeliveryFailed, ResumeFrom

REPLAYED_AFTER = timedelta(minutes=2)
ANCHOR_HEADER = "X-Gate-Log-Anchor"


class UpstreamSink:
    """``OutboundSink`` to a hub's ingest endpoint."""

    def __init__(
        self,
        *,
        url: str,
        key: str,
        compound: str,
        timeout: float = 30.0,
        anchor: Callable[[], bytes | None] | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("a hub URL starts with http:// or https://")
        self.name = "upstream"
        self._base, self._key, self._compound = url.rstrip("/"), key, compound
        self._timeout = timeout
        self._anchor = anchor  # the latest anchor's JSON (ASCII), sent with each push

    def _call(
        self, method: str, path: str, body: bytes | None = None, anchor: bytes | None = None
    ) -> tuple[int, Any]:
        headers = {
            "Authorization": f"Bearer {self._key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "gate-upstream/1",
        }
        if anchor is not None:
            headers[ANCHOR_HEADER] = anchor.decode("ascii")
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self._base + path, data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                return answer.status, orjson.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = error.read()[:500]
            try:
                return error.code, orjson.loads(detail)
            except orjson.JSONDecodeError:
                return error.code, {"detail": detail.decode(errors="replace")}
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryFailed(f"hub {self._base}: {getattr(error, 'reason', error)}") from None

    def hub_cursor(self) -> int:
        """The last seq of this compound the hub holds (``DeliveryFailed`` if it can't say)."""
        query = urllib.parse.urlencode({"compound_id": self._compound})
        status, body = self._call("GET", f"/api/v1/ingest/cursor?{query}")
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("last_seq"), int):
            raise DeliveryFailed(f"hub cursor: HTTP {status} {str(body)[:200]}")
        return int(body["last_seq"])

    def deliver(self, items: Sequence[dict[str, Any]]) -> int:
        """Push the batch; the hub acknowledges all of it or none."""
        now = datetime.now(UTC)
        marked = [
            {**item, "replayed": now - datetime.fromisoformat(item["at_utc"]) > REPLAYED_AFTER}
            for item in items
        ]
        body = orjson.dumps({"compound_id": self._compound, "items": marked})
        anchor = self._anchor() if self._anchor is not None else None
        status, answer = self._call("POST", "/api/v1/ingest", body, anchor)
        if (
            status == 409
            and isinstance(answer, dict)
            and isinstance(answer.get("expected_after"), int)
        ):
            raise ResumeFrom(int(answer["expected_after"]))
        if status != 200:
            raise DeliveryFailed(f"hub refused the batch: HTTP {status} {str(answer)[:300]}")
        return len(items)

    def device_status(self, status: dict[str, Any]) -> None:
        """The hub takes passages only; device status stays local (MQTT, the terminal)."""

    def close(self) -> None:
        """Nothing is kept open."""
