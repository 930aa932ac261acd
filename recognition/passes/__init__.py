"""Pass tokens: compact signed passes that a gate verifies offline (issue 9, item 1).

A pass is a binary token (``layout``: version, key id, kind, pass id, subject and
household refs, a validity window in minutes) signed with Ed25519 by the compound's key
ring (``keyring``: the current key signs, the previous one still verifies), carried as
base45 text (``base45``) so a QR code holds it in alphanumeric mode and a keyboard-wedge
scanner types it as it is. 99 to 121 bytes, 149 to 182 characters.

Resident passes rotate. The phone is given the signed bytes and a per-pass step secret
once, when the resident enrols; from then on it needs no network: every 30 s it appends
the RFC 6238 time step (modulo 2**16) and the TOTP code of that step (HMAC-SHA-256 with
the secret, 8 digits; ``totp``) to the signed bytes and shows the base45 of the whole
(``issue.render``). The phone cannot sign, so the step and code ride after the signature,
unsigned: the signature says whose pass it is, the code says that whoever shows it holds
its secret now. The gate knows every secret without a table: it derives each from the
key that signed the pass and the pass id (``keyring``), so rotating the key retires the
secrets with it. The gate accepts the current step and one either side; a genuine code
from an older step is refused as ``stale_step``: a screenshot is dead within a minute.

``verify.verify_pass(text, keys=..., now=..., step_secrets=...)`` is pure and offline and
returns ``PassValid`` with the claims or ``PassRefused`` with a reason code, never an
exception. Revocation and one-time consumption are left to the snapshot and the log, keyed
on the pass id and kind in the claims.
"""

from gate.domain.base45 import Base45Error, b45decode, b45encode
from gate.domain.passes import PassCheck, PassClaims, PassKind, PassRefusal, PassRefused, PassValid
from recognition.passes.issue import IssuedPass, issue_pass, new_pass_id, render
from recognition.passes.keyring import (
    KeyRing,
    SigningKey,
    StepSecrets,
    key_dir,
    open_key_ring,
    rotate_key_ring,
)
from recognition.passes.layout import PassNotEncodable
from recognition.passes.verify import (
    ALL_KINDS,
    StepSecretLookup,
    TrustedKeys,
    verify_pass,
)

__all__ = [
    "ALL_KINDS",
    "Base45Error",
    "IssuedPass",
    "KeyRing",
    "PassCheck",
    "PassClaims",
    "PassKind",
    "PassNotEncodable",
    "PassRefusal",
    "PassRefused",
    "PassValid",
    "SigningKey",
    "StepSecretLookup",
    "StepSecrets",
    "TrustedKeys",
    "b45decode",
    "b45encode",
    "issue_pass",
    "key_dir",
    "new_pass_id",
    "open_key_ring",
    "render",
    "rotate_key_ring",
    "verify_pass",
]
