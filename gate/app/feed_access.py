"""Whether a feed caller's items carry masked document numbers (``passages:read-masked-documents``).

Apart from ``gate.app.district_feed`` because it reads the key store (``gate.app.ports``),
which itself names the feed's row type.
"""

from __future__ import annotations

from gate.app.actor import Actor
from gate.app.api_keys import key_hash
from gate.app.ports import UnitOfWorkFactory
from gate.domain.api_scopes import STAFF_PERMISSION, ApiScope
from gate.domain.roles import Role, allowed

DOCUMENTS_SCOPE = ApiScope.PASSAGES_READ_MASKED_DOCUMENTS


def key_reads_documents(key_text: str, *, actor: Actor, units: UnitOfWorkFactory) -> bool:
    """True if the key (already authenticated for the feed) has the masked-documents scope.

    A key's scopes are fixed when it is made (a rotation keeps them), so the feed call's
    audit row, which names the key, also says whether its items carried masked numbers.
    """
    with units(actor) as uow:
        key = uow.api_keys.by_hash(key_hash(key_text))
    return key is not None and not key.revoked and DOCUMENTS_SCOPE in key.scopes


def role_reads_documents(role: Role) -> bool:
    """True if a staff member of ``role`` sees masked numbers in the feed."""
    return allowed(role, STAFF_PERMISSION[DOCUMENTS_SCOPE])
