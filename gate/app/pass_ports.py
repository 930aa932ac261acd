"""What the pass use cases need: a signer (the key ring) and the registry's pass list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gate.domain.passes import PassClaims, PassKind, PassState, pass_text


@dataclass(frozen=True, repr=False)
class SignedPass:
    """A freshly signed pass: its claims, the signed bytes, and its step secret if it rotates.

    ``signed`` and ``secret`` are all a phone needs to show the pass offline.
    """

    claims: PassClaims
    signed: bytes
    secret: bytes | None

    def text_at(self, moment: datetime) -> str:
        """The text its QR carries at ``moment``."""
        return pass_text(self.signed, self.secret, moment)

    def __repr__(self) -> str:
        return f"SignedPass({self.claims.pass_id}, {self.claims.kind.value})"


class PassSigner(Protocol):
    """Signs passes with the compound's current key (``recognition.passes``)."""

    def sign(
        self,
        *,
        kind: PassKind,
        subject_ref: str,
        household_ref: str | None,
        not_before: datetime,
        not_after: datetime,
        rotating: bool,
    ) -> SignedPass:
        """A new pass, signed now."""
        ...

    def secret_of(self, claims: PassClaims) -> bytes | None:
        """The step secret of a rotating pass, None if its key has been retired."""
        ...

    def rotate(self) -> str:
        """Make a new current key (the previous one still verifies); its key id."""
        ...


@dataclass(frozen=True)
class PassOnFile:
    """An issued pass as the registry keeps it."""

    claims: PassClaims
    signed: bytes
    state: PassState
    note: str
    issued_by: str
    issued_at: datetime
    used_at: datetime | None


class PassStore(Protocol):
    """Issued passes and their enrollment codes."""

    def add(self, signed: SignedPass, *, note: str) -> None:
        """Record a signed pass."""
        ...

    def get(self, pass_id: str) -> PassOnFile:
        """The pass ``pass_id``; ``NotFound``."""
        ...

    def of_subject(self, subject_ref: str) -> Sequence[PassOnFile]:
        """A person's or a visit's passes, newest first."""
        ...

    def revoke(self, pass_id: str) -> None:
        """Mark the pass revoked now (by the unit of work's actor)."""
        ...

    def add_enrollment(self, pass_id: str, *, code_hash: str, expires_at: datetime) -> None:
        """Record a one-time enrollment code (its hash) for the pass."""
        ...

    def take_enrollment(self, code_hash: str) -> str | None:
        """Spend an unexpired, unrevoked, unused enrollment code; its pass id, else None."""
        ...

    def revoke_enrollments(self, pass_id: str) -> int:
        """Revoke the pass's unused enrollment codes; how many."""
        ...
