"""``KeyRingSigner``: the application's ``PassSigner`` on the key ring in the data folder.

The ring is opened for each signature (two small files), so a rotation by another process
is used at once; the first signature of a new installation generates the first key.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gate.app.pass_ports import SignedPass
from gate.domain.passes import PassClaims, PassKind
from recognition.passes.issue import issue_pass
from recognition.passes.keyring import open_key_ring, rotate_key_ring


class KeyRingSigner:
    """Signs with the current key of ``folder``; rotates it."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

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
        """A new pass signed by the current key."""
        issued = issue_pass(
            key=open_key_ring(self._folder).current,
            kind=kind,
            subject_ref=subject_ref,
            household_ref=household_ref,
            not_before=not_before,
            not_after=not_after,
            rotating=rotating,
        )
        return SignedPass(issued.claims, issued.signed, issued.secret)

    def secret_of(self, claims: PassClaims) -> bytes | None:
        """The step secret of a rotating pass of the current or previous key."""
        return open_key_ring(self._folder).step_secrets()(claims)

    def rotate(self) -> str:
        """A new current key; its id."""
        return f"{rotate_key_ring(self._folder).current.key_id:04x}"
