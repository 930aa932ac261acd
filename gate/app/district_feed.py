"""The district's entry-log feed: pages of passages after a cursor, in the platforms' shapes.

**The cursor contract.** A page holds the passages with ``seq`` after the cursor, in
``seq`` order, and ``next_cursor`` is the last one's; a puller that stores the cursor
with what it processed never skips or repeats a row. That holds under concurrent writers
because of how the log is written (``registry/passages.py``): every append takes the
chain head's lock, gets ``seq = last + 1`` from it and keeps the lock until it commits, so
rows commit in ``seq`` order on SQLite and PostgreSQL alike; a rolled-back append gives
its number back with the lock. A reader therefore only ever sees a prefix of the log, with
no hole a slower transaction could fill in later (the tests pull while writers append).

**The shapes.** ``standard``: one flat object per passage with our names, the structured
address of the household (the GA/T 2000.32 levels and a house code), the open-type and
direction codes the smart-community platforms use, local time as ``YYYYMMDDHHMMSS`` and
ISO-8601. ``viid``: GA/T 1400-style list objects (PascalCase, ``CommunityID``,
``DeviceID``, ``DataStatus``) with our reasons and rules under ``Extension``. People are
pseudonyms, stable for this compound's key (never an internal id, never a document
number, no face data).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from typing import Any, Protocol

from gate.domain.errors import ActionRefused
from gate.domain.model import CredentialKind, Direction, PassageRecord
from gate.domain.status import LOCAL_TZ

CURSOR_PREFIX = "v1."
MAX_PAGE = 5000
DEFAULT_PAGE = 500

# How the door was opened, in the code table the smart-community platforms read
# (100101 card, 100201 face, 100501 ID card, 100601 visitor call, 100701 QR). A guard
# typing the document number is an ID-card check done by hand: 100501, with ``manual``.
OPEN_TYPE = {
    CredentialKind.ID_CARD: "100501",
    CredentialKind.MANUAL: "100501",
    CredentialKind.FACE: "100201",
    CredentialKind.QR_PASS: "100701",
}
# In and out as those platforms code them (1 in, 2 out).
DIRECTION_CODE = {Direction.IN: "1", Direction.OUT: "2"}


class FeedProfile(StrEnum):
    """The shape of the items."""

    STANDARD = "standard"
    VIID = "viid"


@dataclass(frozen=True)
class Place:
    """Where a household lives, as the registry keys it."""

    building: str
    unit: str
    room: str


@dataclass(frozen=True)
class FeedRow:
    """A passage as the feed reads it: the log record and its household's place."""

    record: PassageRecord
    place: Place | None


class FeedReader(Protocol):
    """The log as the feed reads it (``registry``)."""

    def rows_after(self, seq: int, limit: int) -> Sequence[FeedRow]:
        """Committed passages with ``seq`` greater than ``seq``, in order, at most ``limit``."""
        ...


@dataclass(frozen=True)
class CompoundAddress:
    """The compound's standard address above the building (GA/T 2000.32 levels)."""

    code: str
    name: str
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    community: str = ""


Pseudonym = Callable[[str, str], str]
"""(kind, internal ref) -> the pseudonym the district sees, stable for this compound's key."""


@dataclass(frozen=True)
class FeedPage:
    """One page: the items and the cursor to ask after next (the same if nothing new)."""

    items: list[dict[str, Any]]
    next_cursor: str
    count: int


def parse_cursor(text: str | None) -> int:
    """The ``seq`` a cursor stands for; no cursor is the start of the log."""
    if text is None or text == "":
        return 0
    if not text.startswith(CURSOR_PREFIX) or not text[len(CURSOR_PREFIX) :].isdigit():
        raise ActionRefused("feed_cursor")
    return int(text[len(CURSOR_PREFIX) :])


def cursor_of(seq: int) -> str:
    """The cursor after ``seq``."""
    return f"{CURSOR_PREFIX}{seq}"


def read_page(
    cursor: str | None,
    *,
    limit: int,
    reader: FeedReader,
    compound: CompoundAddress,
    pseudonym: Pseudonym,
    profile: FeedProfile = FeedProfile.STANDARD,
) -> FeedPage:
    """The passages after ``cursor`` (``ActionRefused`` for a bad cursor or limit)."""
    after = parse_cursor(cursor)
    if not 1 <= limit <= MAX_PAGE:
        raise ActionRefused("feed_limit", max=MAX_PAGE)
    rows = reader.rows_after(after, limit)
    shape = standard_item if profile is FeedProfile.STANDARD else viid_item
    items = [shape(row, compound, pseudonym) for row in rows]
    last = rows[-1].record.seq if rows else after
    return FeedPage(items, cursor_of(last), len(items))


_FLOOR = re.compile(r"^(\d{1,3})\d{2}$")


def floor_of(room: str) -> str | None:
    """The floor of a room number as compounds number them (502 -> 5, 1203 -> 12)."""
    match = _FLOOR.match(room)
    return str(int(match[1])) if match else None


def house_code(compound: CompoundAddress, place: Place) -> str:
    """The house's code: compound, building, unit and room."""
    return f"{compound.code}-{place.building}-{place.unit}-{place.room}"


def address(compound: CompoundAddress, place: Place | None) -> dict[str, str | None] | None:
    """The household's standard address, level by level; None for no household."""
    if place is None:
        return None
    return {
        "province": compound.province,
        "city": compound.city,
        "district": compound.district,
        "street": compound.street,
        "community": compound.community,
        "compound": compound.name,
        "building": place.building,
        "unit": place.unit,
        "floor": floor_of(place.room),
        "room": place.room,
        "house_code": house_code(compound, place),
    }


def standard_item(row: FeedRow, compound: CompoundAddress, pseudonym: Pseudonym) -> dict[str, Any]:
    """One passage in our own shape (see the module docstring)."""
    record = row.record
    entry = record.entry
    local = entry.at.astimezone(LOCAL_TZ)
    decision = entry.decision
    return {
        "uuid": entry.uuid,
        "seq": record.seq,
        "serial": record.seq,
        "compound_id": compound.code,
        "lane": entry.lane,
        "direction": entry.direction.value,
        "direction_code": DIRECTION_CODE[entry.direction],
        "at_utc": entry.at.astimezone(UTC).isoformat(),
        "at_local": local.isoformat(),
        "local_time": local.strftime("%Y%m%d%H%M%S"),
        "event_time": local.isoformat(),
        "received_at": local.isoformat(),  # this gate is where it is received
        "replayed": False,  # set by a hub for rows forwarded after an outage
        "credential_kind": entry.credential_kind.value,
        "open_type": OPEN_TYPE[entry.credential_kind],
        "manual": entry.credential_kind is CredentialKind.MANUAL,
        "identity_kind": entry.identity_kind.value,
        "person": pseudonym("person", entry.person_ref) if entry.person_ref else None,
        "household": pseudonym("household", entry.household_ref) if entry.household_ref else None,
        "address": address(compound, row.place),
        "outcome": decision.outcome.value,
        "reasons": [reason.code for reason in decision.reasons],
        "rule_ids": list(decision.rule_ids),
        "decided_by": "guard" if entry.decided_by.startswith("guard:") else entry.decided_by,
        "overrides_seq": entry.overrides_seq,
        "temperature": entry.temperature,
    }


def viid_item(row: FeedRow, compound: CompoundAddress, pseudonym: Pseudonym) -> dict[str, Any]:
    """One passage as a GA/T 1400-style object (PascalCase, our fields under Extension)."""
    record = row.record
    entry = record.entry
    local = entry.at.astimezone(LOCAL_TZ)
    decision = entry.decision
    place = row.place
    return {
        "RecordID": entry.uuid,
        "CommunityID": compound.code,
        "DeviceID": f"{compound.code}-{entry.lane}",
        "Direction": DIRECTION_CODE[entry.direction],
        "OpenType": OPEN_TYPE[entry.credential_kind],
        "OpenTime": local.strftime("%Y%m%d%H%M%S"),
        "OpenResult": "1" if decision.opens_barrier else "0",
        "PersonID": pseudonym("person", entry.person_ref) if entry.person_ref else None,
        "HouseID": house_code(compound, place) if place is not None else None,
        "BuildingNo": place.building if place else None,
        "UnitNo": place.unit if place else None,
        "FloorNo": floor_of(place.room) if place else None,
        "RoomNo": place.room if place else None,
        "SerialNo": record.seq,
        "DataStatus": "1",
        "Extension": {
            "Outcome": decision.outcome.value,
            "Reasons": [reason.code for reason in decision.reasons],
            "RuleIDs": list(decision.rule_ids),
            "DecidedBy": "guard" if entry.decided_by.startswith("guard:") else entry.decided_by,
            "OverridesSerialNo": entry.overrides_seq,
            "IdentityKind": entry.identity_kind.value,
            "Temperature": entry.temperature,
        },
    }


CSV_COLUMNS = (
    "seq",
    "uuid",
    "compound_id",
    "lane",
    "direction_code",
    "local_time",
    "at_utc",
    "open_type",
    "identity_kind",
    "person",
    "household",
    "house_code",
    "outcome",
    "reasons",
    "rule_ids",
    "decided_by",
    "overrides_seq",
)


def csv_row(item: dict[str, Any]) -> list[Any]:
    """A standard item as a CSV row (``CSV_COLUMNS``)."""
    place = item["address"] or {}
    values = {
        **item,
        "house_code": place.get("house_code"),
        "reasons": " ".join(item["reasons"]),
        "rule_ids": " ".join(item["rule_ids"]),
    }
    return [values.get(column) for column in CSV_COLUMNS]
