"""Issue pass tokens; ``render`` (``gate.domain.passes.pass_text``) gives the QR text now."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from gate.domain.passes import PassClaims, PassKind, pass_text
from recognition.passes.keyring import SigningKey
from recognition.passes.layout import (
    PASS_ID_BYTES,
    claims_of,
    encode_body,
    signed_message,
)


@dataclass(frozen=True, repr=False)
class IssuedPass:
    """A signed pass: its claims, the signed bytes, and the step secret if it rotates.

    ``signed`` and ``secret`` are all a phone needs to show the pass offline (``render``).
    """

    claims: PassClaims
    signed: bytes
    secret: bytes | None

    def text_at(self, moment: datetime) -> str:
        """The text of the QR code at ``moment``."""
        return pass_text(self.signed, self.secret, moment)

    def __repr__(self) -> str:
        return f"IssuedPass({self.claims.pass_id}, {self.claims.kind.value})"


def new_pass_id() -> str:
    """A random pass id (16 hex digits)."""
    return secrets.token_hex(PASS_ID_BYTES)


def issue_pass(
    *,
    key: SigningKey,
    kind: PassKind,
    subject_ref: str,
    not_before: datetime,
    not_after: datetime,
    household_ref: str | None = None,
    rotating: bool | None = None,
    pass_id: str | None = None,
) -> IssuedPass:
    """Sign a pass with ``key``; ``PassNotEncodable`` if a value does not fit the layout.

    Times are rounded down to the minute. A resident pass rotates unless ``rotating`` is
    False (a printed pass for a resident without a phone); other kinds rotate if asked.
    """
    draft = PassClaims(
        pass_id=pass_id if pass_id is not None else new_pass_id(),
        kind=kind,
        subject_ref=subject_ref,
        household_ref=household_ref,
        not_before=not_before,
        not_after=not_after,
        rotating=kind is PassKind.RESIDENT if rotating is None else rotating,
        key_id=f"{key.key_id:04x}",
    )
    body = encode_body(draft)
    secret = key.step_secret(draft.pass_id) if draft.rotating else None
    return IssuedPass(claims_of(body), body + key.sign(signed_message(body)), secret)


render = pass_text  # the name the pass tools and tests know it by
