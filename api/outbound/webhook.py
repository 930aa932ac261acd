"""Passages to an HTTP endpoint (a webhook), batched, signed with HMAC-SHA256.

Each request is ``POST <url>`` with ``{"items": [feed items...]}`` in log order and

- ``X-Gate-Signature: t=<unix seconds>,v1=<hex>``: HMAC-SHA256 with the webhook's secret
  over ``"<t>." + body`` (the raw bytes), so a receiver can check who sent it and that it
  is fresh (``verify_signature``; reject a ``t`` more than a few minutes off);
- ``Idempotency-Key``: the first and last item's ``uuid``; a receiver that stores items
  by ``uuid`` can take a resent batch again without doubling anything.

A 2xx answer acknowledges the whole batch; anything else, or no answer within the
timeout, is a failure and the relay sends the same batch again after its back-off.
Device status goes as ``{"device": {...}}`` the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

import orjson

from gate.app.outbound import DeliveryFailed

SIGNATURE_HEADER = "X-Gate-Signature"


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Gate-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: bytes, body: bytes, header: str, *, now: float, tolerance: float = 300
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and was made within ``tolerance``."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp = fields.get("t", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(
        signature(secret, body, int(stamp)), f"t={stamp},v1={fields.get('v1', '')}"
    )


class WebhookSink:
    """``OutboundSink`` posting to one URL."""

    def __init__(self, *, name: str, url: str, secret: bytes, timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("a webhook URL starts with http:// or https://")
        self.name = f"webhook:{name}"
        self._url, self._secret, self._timeout = url, secret, timeout

    def _post(self, payload: dict[str, Any], key: str) -> None:
        body = orjson.dumps(payload)
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self._url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: signature(self._secret, body, int(time.time())),
                "Idempotency-Key": key,
                "User-Agent": "gate-webhook/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                answer.read()
        except urllib.error.HTTPError as error:
            raise DeliveryFailed(f"{self._url} answered {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryFailed(f"{self._url}: {getattr(error, 'reason', error)}") from None

    def deliver(self, items: Sequence[dict[str, Any]]) -> int:
        """Post the batch; all of it is acknowledged by a 2xx."""
        self._post({"items": list(items)}, f"{items[0]['uuid']}..{items[-1]['uuid']}")
        return len(items)

    def device_status(self, status: dict[str, Any]) -> None:
        """Post one device's status."""
        key = f"device:{status['lane']}:{status['device']}:{status['state']}:{status['silent']}"
        self._post({"device": status}, key)

    def close(self) -> None:
        """Nothing is kept open."""
