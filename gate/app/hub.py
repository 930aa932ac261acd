"""Hub mode: passages pushed by the compounds' gates (store-and-forward), and their feed.

**Ingest.** An edge POSTs batches of its district-feed items in its ``seq`` order.
``ingest`` checks the batch once (the key is bound to the compound; every item is a
standard item of that compound, ``seq`` strictly rising; at most ``MAX_BATCH``), then in
one transaction takes the hub's feed lock, refuses a batch that would leave a gap after
the last ``seq`` held for the compound (``HubGap``: the edge resends from there), stores
the items not held yet (by ``uuid``; a re-sent item is a duplicate and changes nothing)
with the hub's ``received_at`` and the edge's ``replayed``, moves the compound's cursor,
audits once and commits. A refused batch stores nothing.

**Feed.** ``hub_seq`` is given out under the lock, held until commit, so rows commit in
``hub_seq`` order from any number of processes and the feed's cursor contract
(``gate.app.district_feed``) holds across compounds: ``v1.<hub_seq>``. A key bound to
compounds reads those; a staff session of the hub reads all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from gate.app.actor import Actor
from gate.app.api_keys import key_hash
from gate.app.district_feed import (
    MAX_PAGE,
    FeedProfile,
    cursor_of,
    parse_cursor,
    viid_of_standard,
)
from gate.app.hub_ports import CompoundCount, HubRow
from gate.app.ports import UnitOfWorkFactory
from gate.domain.errors import ActionRefused
from gate.domain.status import LOCAL_TZ

MAX_BATCH = 5000

# The standard item's fields and the types each may have (``GET /api/v1/passages``).
_STR, _OPT_STR = (str,), (str, type(None))
ITEM_FIELDS: Mapping[str, tuple[type, ...]] = {
    "uuid": _STR,
    "seq": (int,),
    "serial": (int,),
    "compound_id": _STR,
    "lane": _STR,
    "direction": _STR,
    "direction_code": _STR,
    "open_type": _STR,
    "credential_kind": _STR,
    "manual": (bool,),
    "at_utc": _STR,
    "at_local": _STR,
    "local_time": _STR,
    "event_time": _STR,
    "received_at": _STR,
    "replayed": (bool,),
    "identity_kind": _STR,
    "person": _OPT_STR,
    "household": _OPT_STR,
    "address": (dict, type(None)),
    "outcome": _STR,
    "reasons": (list,),
    "rule_ids": (list,),
    "decided_by": _STR,
    "overrides_seq": (int, type(None)),
    "temperature": (int, float, type(None)),
}
# The hub keeps no document data, not even masked: an edge's relay never sends it, and an
# item that carries it is refused, so no hub reader can be handed it whatever their scope.
OPTIONAL_FIELDS: Mapping[str, tuple[type, ...]] = {}
_KNOWN = {**ITEM_FIELDS, **OPTIONAL_FIELDS}
_REQUIRED = frozenset(ITEM_FIELDS)
_MAX_SEQ = 2**63 - 1
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)


class HubCompoundRefused(ActionRefused):
    """The caller may not push for or read this compound (HTTP 403)."""

    def __init__(self, compound: str) -> None:
        super().__init__("hub_compound_refused", compound=compound[:40])


class HubItemInvalid(ActionRefused):
    """A malformed body or item (HTTP 422): ``index`` (None: the body) and ``field``."""

    def __init__(self, field: str, index: int | None = None, problem: str = "invalid") -> None:
        super().__init__(
            "hub_item_invalid" if index is not None else "hub_body_invalid",
            index=index if index is not None else "",
            # An unknown key is the sender's text: no braces into the message's template.
            field=_UNSAFE.sub("?", field),
            problem=problem,
        )
        self.index, self.field, self.problem = index, field, problem


class HubBatchTooLarge(ActionRefused):
    """More than ``MAX_BATCH`` items (HTTP 413)."""

    def __init__(self) -> None:
        super().__init__("hub_batch_too_large", limit=MAX_BATCH)


class HubGap(ActionRefused):
    """A batch after a gap (HTTP 409): the hub holds the compound up to ``expected_after``."""

    def __init__(self, expected_after: int) -> None:
        super().__init__("hub_gap", expected_after=expected_after)
        self.expected_after = expected_after


@dataclass(frozen=True)
class IngestResult:
    """What a push did: items stored, items already held, the last ``seq`` of the batch."""

    accepted: int
    duplicates: int
    acknowledged_seq: int


@dataclass(frozen=True)
class HubLines:
    """One page of the hub feed: one JSON line per item (``hub_seq`` first) and the cursor."""

    lines: list[bytes]
    next_cursor: str
    count: int


def _refuse_unbound(compound: str, bound: frozenset[str] | None) -> None:
    if bound is not None and compound not in bound:
        raise HubCompoundRefused(compound)


# The shapes (field names and value types, in order) of items found well-formed: an edge
# sends a handful of shapes (a field null or not), so most items are checked by one
# lookup instead of field by field. Only a cache: a miss checks in full.
_SHAPES: dict[tuple[tuple[str, ...], tuple[type, ...]], None] = {}
_SHAPES_LIMIT = 4096


def _check_item(index: int, item: Any, compound: str) -> None:
    if item.__class__ is dict:
        shape = (tuple(item), tuple(map(type, item.values())))
        if shape not in _SHAPES:
            _check_fields(index, item)
            if len(_SHAPES) >= _SHAPES_LIMIT:
                _SHAPES.clear()
            _SHAPES[shape] = None
    else:
        _check_fields(index, item)
    if item["compound_id"] != compound:
        raise HubCompoundRefused(str(item["compound_id"]))


def _check_fields(index: int, item: Any) -> None:
    if not isinstance(item, dict):
        raise HubItemInvalid("item", index, "not_an_object")
    missing = _REQUIRED - item.keys()
    if missing:
        raise HubItemInvalid(min(missing), index, "missing")
    for name, value in item.items():
        kinds = _KNOWN.get(name)
        if kinds is None:
            raise HubItemInvalid(str(name)[:40], index, "unknown")
        # bool is an int in Python: a seq of true is not a number
        if value.__class__ not in kinds and not (
            isinstance(value, kinds) and not isinstance(value, bool)
        ):
            raise HubItemInvalid(name, index, "type")


def _row(index: int, item: dict[str, Any], compound: str, received: str) -> HubRow:
    uuid = item["uuid"]
    if not _UUID.match(uuid):
        raise HubItemInvalid("uuid", index, "format")
    seq = item["seq"]
    if not 1 <= seq <= _MAX_SEQ:
        raise HubItemInvalid("seq", index, "range")
    try:
        at = datetime.fromisoformat(item["at_utc"])
    except ValueError:
        raise HubItemInvalid("at_utc", index, "format") from None
    if at.tzinfo is None:
        raise HubItemInvalid("at_utc", index, "format")
    item["received_at"] = received
    return HubRow(compound, seq, uuid, at, item["replayed"], item)


def parse_batch(body: Any, *, bound: frozenset[str] | None, now: datetime) -> list[HubRow]:
    """The rows of a push body (``compound_id``, ``items``), checked; refusals as above.

    ``bound``: the compounds the caller's key is bound to (a staff session: None, but it
    may not push: an empty set). ``now`` becomes every item's ``received_at``.
    """
    if not isinstance(body, dict):
        raise HubItemInvalid("body", problem="not_an_object")
    unknown = body.keys() - {"compound_id", "items"}
    if unknown:
        raise HubItemInvalid(str(min(unknown))[:40], problem="unknown")
    compound = body.get("compound_id")
    if not isinstance(compound, str) or not compound:
        raise HubItemInvalid("compound_id", problem="missing" if compound is None else "type")
    _refuse_unbound(compound, bound)
    items = body.get("items")
    if not isinstance(items, list):
        raise HubItemInvalid("items", problem="missing" if items is None else "type")
    if len(items) > MAX_BATCH:
        raise HubBatchTooLarge
    received = now.astimezone(LOCAL_TZ).isoformat()
    rows: list[HubRow] = []
    for index, item in enumerate(items):
        _check_item(index, item, compound)
        row = _row(index, item, compound, received)
        if rows and row.seq <= rows[-1].seq:
            raise HubItemInvalid("seq", index, "order")
        rows.append(row)
    return rows


def ingest(
    body: Any, *, bound: frozenset[str], actor: Actor, units: UnitOfWorkFactory
) -> IngestResult:
    """Store a pushed batch, all or nothing; see the module docstring for the refusals."""
    rows = parse_batch(body, bound=bound, now=actor.at)
    compound = str(body["compound_id"])
    with units(actor) as uow:
        if rows:
            uow.hub.stage(rows, received_at=actor.at)
        last, base = uow.hub.lock(compound, len(rows))
        if not rows:
            return IngestResult(0, 0, last)
        if rows[0].seq > last + 1:
            raise HubGap(last)
        accepted = uow.hub.insert(base=base)
        uow.hub.advance(compound, rows[-1].seq)
        uow.audit(
            "hub.ingest",
            f"compound:{compound}",
            {
                "accepted": accepted,
                "duplicates": len(rows) - accepted,
                "first_seq": rows[0].seq,
                "last_seq": rows[-1].seq,
            },
        )
        uow.commit()
    return IngestResult(accepted, len(rows) - accepted, rows[-1].seq)


def edge_cursor(
    compound: str, *, bound: frozenset[str] | None, actor: Actor, units: UnitOfWorkFactory
) -> int:
    """The last ``seq`` the hub holds for ``compound`` (0 if none): where its edge resumes."""
    _refuse_unbound(compound, bound)
    with units(actor) as uow:
        return uow.hub.last_seq(compound)


def readable(compound: str | None, bound: frozenset[str] | None) -> frozenset[str] | None:
    """The compounds a read covers: ``bound`` (None: all), or ``compound`` if bound to it.

    ``HubCompoundRefused`` for a compound the caller is not bound to.
    """
    if compound is None:
        return bound
    _refuse_unbound(compound, bound)
    return frozenset({compound})


def hub_pages(
    cursor: str | None,
    *,
    limit: int,
    compound: str | None,
    bound: frozenset[str] | None,
    actor: Actor,
    units: UnitOfWorkFactory,
    profile: FeedProfile = FeedProfile.STANDARD,
) -> Iterator[HubLines]:
    """Up to ``limit`` rows after ``cursor``, a page (``MAX_PAGE``) at a time.

    The cursor and the compound are checked at once (``ActionRefused``); at least one
    page comes, empty at the end of the feed. ``bound`` None: every compound. ``viid``:
    each item as the edge's VIID object (``viid_line``).
    """
    after = parse_cursor(cursor)
    if limit < 1:
        raise ActionRefused("feed_limit", max=MAX_PAGE)
    compounds = readable(compound, bound)
    line = viid_line if profile is FeedProfile.VIID else standard_line
    return _pages(after, limit, compounds, actor, units, line)


def standard_line(hub_seq: int, item: bytes) -> bytes:
    """The stored item with ``hub_seq`` first."""
    return b'{"hub_seq":%d,%s' % (hub_seq, item[1:])


def viid_line(hub_seq: int, item: bytes) -> bytes:
    """The stored item as the edge's VIID object, ``Extension.HubSerialNo`` its ``hub_seq``."""
    viid = viid_of_standard(json.loads(item))
    viid["Extension"]["HubSerialNo"] = hub_seq
    return json.dumps(viid, ensure_ascii=False, separators=(",", ":")).encode()


def _pages(
    after: int,
    limit: int,
    compounds: frozenset[str] | None,
    actor: Actor,
    units: UnitOfWorkFactory,
    line: Callable[[int, bytes], bytes],
) -> Iterator[HubLines]:
    left = limit
    while True:
        size = min(left, MAX_PAGE)
        with units(actor) as uow:
            rows = uow.hub.page_after(after, size, compounds=compounds)
        if rows:
            after = rows[-1][0]
        lines = [line(hub_seq, item) for hub_seq, item in rows]
        yield HubLines(lines, cursor_of(after), len(rows))
        left -= len(rows)
        if len(rows) < size or left <= 0:
            return


def hub_lines(
    cursor: str | None,
    *,
    limit: int,
    compound: str | None,
    bound: frozenset[str] | None,
    actor: Actor,
    units: UnitOfWorkFactory,
    profile: FeedProfile = FeedProfile.STANDARD,
) -> HubLines:
    """One page (at most ``MAX_PAGE``) of the hub feed after ``cursor``."""
    if not 1 <= limit <= MAX_PAGE:
        raise ActionRefused("feed_limit", max=MAX_PAGE)
    pages = hub_pages(
        cursor,
        limit=limit,
        compound=compound,
        bound=bound,
        actor=actor,
        units=units,
        profile=profile,
    )
    return next(pages)


def key_compounds(key_text: str, *, actor: Actor, units: UnitOfWorkFactory) -> frozenset[str]:
    """The compounds of the key ``key_text`` (already authenticated); none for another."""
    with units(actor) as uow:
        key = uow.api_keys.by_hash(key_hash(key_text))
    if key is None or key.revoked:
        return frozenset()
    return frozenset(key.compounds)


def daily_counts(
    day: date, *, bound: frozenset[str] | None, actor: Actor, units: UnitOfWorkFactory
) -> list[CompoundCount]:
    """The passages of each compound the caller reads on ``day`` (Asia/Shanghai)."""
    since = datetime.combine(day, time(), LOCAL_TZ)
    until = datetime.combine(day + timedelta(days=1), time(), LOCAL_TZ)
    if bound is not None and not bound:
        return []
    with units(actor) as uow:
        return uow.hub.counts(since=since, until=until, compounds=bound)
