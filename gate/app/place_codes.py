"""The compound's place code: a lane without a scanner records a passage from a phone.

The terminal shows, for a lane, a QR of a link with a place token; a resident scans it
with their own phone's camera, the link opens their pass page, and the page sends the
text their pass shows right now (``pass_at_place``). The gate core decides it as if the
lane's scanner had read it: same verification, same ``decide()``, same log row.

A place token names the lane and a 30-second step and is signed with a key the running
service keeps in memory (HMAC-SHA-256); the terminal draws a new one every step and a
token is good for ``PLACE_STEPS`` steps, so a photo of the place code taken home is of no
use a minute and a half later. A restart of the service retires every token.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from gate.app.pipeline import PassagePipeline, PassageResult
from gate.domain.errors import ActionRefused
from gate.domain.model import Credential, CredentialKind, Direction

STEP_SECONDS = 30
PLACE_STEPS = 3  # the current step and the two before it
_MAC_BYTES = 12


@dataclass(frozen=True)
class PlaceCode:
    """A lane's place token for one step, and when the next one is due."""

    lane: str
    token: str
    step: int
    renew_at: datetime


class PlaceCodes:
    """Signs and checks place tokens with a key of this process."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def code(self, lane: str, at: datetime) -> PlaceCode:
        """The token of ``lane`` at ``at``."""
        step = int(at.timestamp()) // STEP_SECONDS
        renew_at = datetime.fromtimestamp((step + 1) * STEP_SECONDS, tz=at.tzinfo)
        return PlaceCode(lane, self._token(lane, step), step, renew_at)

    def check(self, token: str, lane: str, at: datetime) -> None:
        """``ActionRefused("place_code")`` unless ``token`` is ``lane``'s, and recent."""
        now_step = int(at.timestamp()) // STEP_SECONDS
        for step in range(now_step, now_step - PLACE_STEPS, -1):
            if hmac.compare_digest(self._token(lane, step), token.strip()):
                return
        raise ActionRefused("place_code")

    def _token(self, lane: str, step: int) -> str:
        message = f"{lane}\n{step}".encode()
        mac = hmac.digest(self._key, message, "sha256")[:_MAC_BYTES]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


@dataclass(frozen=True)
class PlacePassage:
    """What a phone sent at a place code: the lane, and the pass text it showed."""

    lane: str
    direction: Direction
    token: str
    pass_text: str


def pass_at_place(
    request: PlacePassage,
    *,
    codes: PlaceCodes,
    lanes: Collection[str],
    pipeline: PassagePipeline,
    clock: Callable[[], datetime],
) -> PassageResult:
    """Check the place token, then decide the pass as the lane's scanner would."""
    if request.lane not in lanes:
        raise ActionRefused("place_code")
    codes.check(request.token, request.lane, clock())
    credential = Credential(CredentialKind.QR_PASS, code=request.pass_text)
    return pipeline.process(credential, lane=request.lane, direction=request.direction)
