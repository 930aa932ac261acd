"""API keys for machines (the district platform): create, list, rotate, revoke, authenticate.

A key is ``gk_<8 hex>_<43 random url-safe characters>`` (256 random bits after the
prefix). It is shown once, when it is created or rotated; the store keeps its SHA-256
(a fast hash is enough for a random key of that length) and the prefix ``gk_<8 hex>``
for lists and audit rows. Names are unique among keys that are not revoked; a rotation
revokes the key and adds a new one with the same name and scopes.

``authenticate`` runs on every ``/api/v1`` request that carries a key: one read, then
one transaction that sets the key's last use and writes the call's audit row
(``api.call``, the path as target) in the key's name. A key without the route's scope is
refused (``ApiScopeMissing``) and that attempt audited as ``access.denied``.

A key may be bound to compounds (a hub's key for the gates of a district): it pushes for
and reads only those (``ApiCaller.compounds``); a key bound to none is this gate's own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from gate.app.actor import Actor
from gate.app.api_key_ports import ApiKeyOnFile
from gate.app.ports import UnitOfWorkFactory
from gate.app.throttle import SubmissionThrottle
from gate.domain.api_scopes import ApiScope, parse_scopes
from gate.domain.errors import ActionRefused

KEY_PREFIX = "gk_"
MAX_NAME = 64
MAX_KEY_TEXT = 128  # anything longer is not one of ours; refused before any query
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_KEY = re.compile(r"^gk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,100}$")
COMPOUND_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # as ``[compound] code`` is
MAX_COMPOUNDS = 1000


class ApiKeyInvalid(ActionRefused):
    """No key, or one that is unknown or revoked (HTTP 401)."""

    def __init__(self, code: str = "api_key_invalid") -> None:
        super().__init__(code)


class ApiRateLimited(ActionRefused):
    """A key over its requests per minute (HTTP 429); ``seconds`` until the next may go."""

    def __init__(self, seconds: int) -> None:
        super().__init__("api_rate_limited", seconds=seconds)
        self.seconds = seconds


class ApiScopeMissing(ActionRefused):
    """A valid key that lacks the scope of the route (HTTP 403)."""

    def __init__(self, scope: ApiScope) -> None:
        super().__init__("api_scope_missing", scope=scope.value)


@dataclass(frozen=True)
class CreateApiKey:
    """A new key for a machine: its name, the scopes it may use, the compounds it is for."""

    name: str
    scopes: tuple[str, ...]
    compounds: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiCaller:
    """A key that passed ``authenticate``: its name and the compounds it is bound to."""

    name: str
    compounds: frozenset[str]


def parse_compounds(texts: Sequence[str]) -> tuple[str, ...]:
    """The compound codes named (deduplicated, in order); ``ActionRefused`` for a bad one."""
    found: list[str] = []
    for text in texts:
        code = text.strip()
        if not COMPOUND_CODE.match(code):
            raise ActionRefused("api_key_compound", compound=code[:40])
        if code not in found:
            found.append(code)
    if len(found) > MAX_COMPOUNDS:
        raise ActionRefused("api_key_compounds_limit", limit=MAX_COMPOUNDS)
    return tuple(found)


@dataclass(frozen=True, repr=False)
class IssuedApiKey:
    """A key just made: as stored, and its text (shown once, never stored)."""

    key: ApiKeyOnFile
    text: str

    def __repr__(self) -> str:
        return f"IssuedApiKey({self.key.name}, {self.key.prefix})"


def key_hash(text: str) -> str:
    """What the store keeps of a key's text."""
    return hashlib.sha256(text.encode()).hexdigest()


def _new_key_text() -> tuple[str, str]:
    prefix = f"{KEY_PREFIX}{secrets.token_hex(4)}"
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def create_api_key(
    command: CreateApiKey, *, actor: Actor, units: UnitOfWorkFactory
) -> IssuedApiKey:
    """Make a key (``ActionRefused`` says what was wrong); audited, the text never."""
    name = command.name.strip()
    if not _NAME.match(name):
        raise ActionRefused("api_key_name", limit=MAX_NAME)
    scopes = parse_scopes(command.scopes)
    compounds = parse_compounds(command.compounds)
    prefix, text = _new_key_text()
    with units(actor) as uow:
        if uow.api_keys.active(name) is not None:
            raise ActionRefused("api_key_name_taken", name=name)
        key = uow.api_keys.add(
            name=name,
            prefix=prefix,
            key_hash=key_hash(text),
            scopes=scopes,
            compounds=compounds,
        )
        detail: dict[str, object] = {
            "prefix": prefix,
            "scopes": [scope.value for scope in scopes],
        }
        if compounds:
            detail["compounds"] = list(compounds)
        uow.audit("apikey.create", f"apikey:{name}", detail)
        uow.commit()
    return IssuedApiKey(key, text)


def list_api_keys(*, actor: Actor, units: UnitOfWorkFactory) -> Sequence[ApiKeyOnFile]:
    """Every key, revoked ones too (names, prefixes, scopes, dates; never a secret)."""
    with units(actor) as uow:
        return uow.api_keys.all()


def rotate_api_key(name: str, *, actor: Actor, units: UnitOfWorkFactory) -> IssuedApiKey:
    """Revoke the key ``name`` and make its successor (same name, scopes, compounds); audited."""
    prefix, text = _new_key_text()
    with units(actor) as uow:
        old = uow.api_keys.active(name.strip())
        if old is None:
            raise ActionRefused("api_key_unknown", name=name.strip()[:MAX_NAME])
        uow.api_keys.revoke(old.id)
        key = uow.api_keys.add(
            name=old.name,
            prefix=prefix,
            key_hash=key_hash(text),
            scopes=old.scopes,
            compounds=old.compounds,
        )
        uow.audit("apikey.rotate", f"apikey:{old.name}", {"prefix": prefix, "replaced": old.prefix})
        uow.commit()
    return IssuedApiKey(key, text)


def revoke_api_key(name: str, *, actor: Actor, units: UnitOfWorkFactory) -> ApiKeyOnFile:
    """Revoke the key ``name``: its next request is refused; audited."""
    with units(actor) as uow:
        key = uow.api_keys.active(name.strip())
        if key is None:
            raise ActionRefused("api_key_unknown", name=name.strip()[:MAX_NAME])
        uow.api_keys.revoke(key.id)
        uow.audit("apikey.revoke", f"apikey:{key.name}", {"prefix": key.prefix})
        uow.commit()
    return key


def authenticate(
    key_text: str,
    scope: ApiScope,
    *,
    path: str,
    actor: Actor,
    units: UnitOfWorkFactory,
    throttle: SubmissionThrottle | None = None,
) -> str:
    """The name of the key ``key_text`` if it is live and has ``scope``; the use audited.

    ``authenticate_caller`` without its compounds.
    """
    caller = authenticate_caller(
        key_text, scope, path=path, actor=actor, units=units, throttle=throttle
    )
    return caller.name


def authenticate_caller(
    key_text: str,
    scope: ApiScope,
    *,
    path: str,
    actor: Actor,
    units: UnitOfWorkFactory,
    throttle: SubmissionThrottle | None = None,
) -> ApiCaller:
    """The key ``key_text`` (name, compounds) if it is live and has ``scope``; audited.

    ``actor`` says where the request comes from (its name is replaced by the key's).
    ``ApiKeyInvalid`` for an unknown or revoked key; ``ApiRateLimited`` when the key has
    made its ``throttle``'s worth of requests (counted per key name, before anything is
    written); ``ApiScopeMissing`` for a key without the scope (audited as
    ``access.denied``).
    """
    if len(key_text) > MAX_KEY_TEXT or not _KEY.match(key_text):
        raise ApiKeyInvalid
    digest = key_hash(key_text)
    with units(actor) as uow:
        key = uow.api_keys.by_hash(digest)
    if key is None or key.revoked:
        raise ApiKeyInvalid
    if throttle is not None and (seconds := throttle.retry_after(key.name)):
        raise ApiRateLimited(seconds)
    as_key = dataclasses.replace(actor, name=key.name)
    target = path[:200]
    with units(as_key) as uow:
        if scope not in key.scopes:
            uow.audit("access.denied", target, {"key": key.prefix, "scope": scope.value})
            uow.commit()
            raise ApiScopeMissing(scope)
        if not uow.api_keys.mark_used(key.id):  # revoked since the read
            raise ApiKeyInvalid
        uow.audit("api.call", target, {"key": key.prefix, "scope": scope.value})
        uow.commit()
    return ApiCaller(key.name, frozenset(key.compounds))
