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
number, no face data). A caller with ``passages:read-masked-documents`` also gets the
passage's document masked (last four; ``document_masked``, ``document_type``; in
``viid`` under ``Extension``), null where it is on no list; others never see the fields.

**The speed.** NDJSON carries up to a million rows in one request, so items are not
dicts: ``gate.app.feed_encoder`` writes each line from cached fragments, the reader
gives the driver's plain rows a page at a time, and the places and documents they refer
to once per request (``FeedReader.pages_after``). ``read_page`` (items as dicts) is the
same lines parsed back, for the CSV, tracing and the outbound relays.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from gate.app.feed_encoder import FeedBatch, FeedEncoder, utc_text
from gate.domain.errors import ActionRefused
from gate.domain.model import CredentialKind, Direction

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


class FeedRow(NamedTuple):
    """A passage as the feed reads it: the log row's fields and its household's place.

    Plain values, not the domain's ``PassageRecord``: the feed reads a million rows at a
    time and building the record (decision, reasons) was most of its cost.
    """

    seq: int
    uuid: str
    at: datetime  # aware, UTC
    lane: str
    direction: str
    credential_kind: str
    identity_kind: str
    person_ref: str | None
    household_ref: str | None
    outcome: str
    opens_barrier: bool
    reason_codes: list[str]
    rule_ids: list[str]
    decided_by: str
    overrides_seq: int | None
    temperature: float | None
    place: Place | None


class FeedReader(Protocol):
    """The log as the feed reads it (``registry``)."""

    def pages_after(
        self, seq: int, limit: int, *, page: int, documents: bool
    ) -> Iterator[FeedBatch]:
        """Committed passages after ``seq`` in order, ``page`` at a time, ``limit`` in all.

        Each batch holds raw rows (``gate.app.feed_encoder.RAW_COLUMNS``, values as the
        driver gives them) and the places of their households; with ``documents`` also
        ``doc_type:last4`` of each passage's document (looked up only then). The pages
        stop after the first short one; nothing is held open between pages.
        """
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
class FeedLines:
    """One page as JSON: one UTF-8 line (no newline) per item, and the cursor after it."""

    lines: list[bytes]
    next_cursor: str
    count: int


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
    digits = text[len(CURSOR_PREFIX) :]
    # At most 18 digits: a sequence number is a signed 64-bit integer in both databases.
    if not text.startswith(CURSOR_PREFIX) or not digits.isdigit() or len(digits) > 18:
        raise ActionRefused("feed_cursor")
    return int(text[len(CURSOR_PREFIX) :])


def cursor_of(seq: int) -> str:
    """The cursor after ``seq``."""
    return f"{CURSOR_PREFIX}{seq}"


def read_lines(
    cursor: str | None,
    *,
    limit: int,
    reader: FeedReader,
    encoder: FeedEncoder,
    documents: bool = False,
) -> FeedLines:
    """The passages after ``cursor`` as JSON lines (``ActionRefused`` for a bad cursor or limit).

    ``documents`` asks the reader for the masked documents; ``encoder`` must have been
    made with the same ``documents``.
    """
    after = checked_request(cursor, limit, stream=False)
    return next(_pages(after, limit, reader, encoder, documents))


def stream_lines(
    cursor: str | None,
    *,
    limit: int,
    reader: FeedReader,
    encoder: FeedEncoder,
    documents: bool = False,
) -> Iterator[FeedLines]:
    """Up to ``limit`` passages after ``cursor``, a page (``MAX_PAGE``) of lines at a time.

    The cursor is checked at once (``ActionRefused``), the log read as the pages are
    taken; at least one page comes, empty at the end of the log.
    """
    after = checked_request(cursor, limit, stream=True)
    return _pages(after, limit, reader, encoder, documents)


def checked_request(cursor: str | None, limit: int, *, stream: bool) -> int:
    """The ``seq`` after which a request reads; ``ActionRefused`` for a bad cursor or limit.

    A page (JSON, CSV) holds at most ``MAX_PAGE`` rows; a stream (NDJSON) any positive number.
    """
    after = parse_cursor(cursor)
    if limit < 1 or (not stream and limit > MAX_PAGE):
        raise ActionRefused("feed_limit", max=MAX_PAGE)
    return after


def _pages(
    after: int,
    limit: int,
    reader: FeedReader,
    encoder: FeedEncoder,
    documents: bool,
    page: int = MAX_PAGE,
) -> Iterator[FeedLines]:
    sent = False
    for batch in reader.pages_after(after, limit, page=page, documents=documents):
        if batch.rows or not sent:
            after = batch.rows[-1][0] if batch.rows else after
            sent = True
            yield FeedLines(encoder.lines(batch), cursor_of(after), len(batch.rows))
    if not sent:
        yield FeedLines([], cursor_of(after), 0)


class FeedLineSource(Protocol):
    """Where the API's feed answers come from: pages of JSON lines after a ``seq``.

    ``LocalFeedLines`` reads and encodes in the calling process; the service's own
    (``gate.runtime.feed_worker``) does it in worker processes, so that a district
    pulling flat out costs the lanes' process only the copying of bytes to the socket.
    """

    def pages(
        self, after: int, limit: int, *, profile: FeedProfile, documents: bool
    ) -> Iterator[FeedLines]:
        """Up to ``limit`` passages after ``after``, a page at a time (see ``stream_lines``)."""
        ...


@dataclass(frozen=True)
class LocalFeedLines:
    """``FeedLineSource`` in this process: the reader and the shared encoders."""

    reader: FeedReader
    compound: CompoundAddress
    pseudonym: Pseudonym
    page: int = MAX_PAGE  # rows a page (smaller in tests, to see many pages)

    def pages(
        self, after: int, limit: int, *, profile: FeedProfile, documents: bool
    ) -> Iterator[FeedLines]:
        encoder = feed_encoder(self.compound, self.pseudonym, profile, documents)
        return _pages(after, limit, self.reader, encoder, documents, self.page)


def feed_answer(
    cursor: str | None,
    *,
    limit: int,
    source: FeedLineSource,
    profile: FeedProfile,
    documents: bool,
    stream: bool,
) -> Iterator[FeedLines] | FeedLines:
    """The API's answer: every page (``stream``, up to ``limit`` rows) or the first one.

    The cursor and limit are checked at once (``ActionRefused``), before any page is
    read, so a bad request is refused before an answer starts.
    """
    after = checked_request(cursor, limit, stream=stream)
    pages = source.pages(after, limit, profile=profile, documents=documents)
    if stream:
        return pages
    try:
        return next(pages)
    finally:  # a worker's stream is handed back at once, not when the iterator is collected
        close = getattr(pages, "close", None)
        if close is not None:
            close()


def read_page(
    cursor: str | None,
    *,
    limit: int,
    reader: FeedReader,
    compound: CompoundAddress,
    pseudonym: Pseudonym,
    profile: FeedProfile = FeedProfile.STANDARD,
    documents: bool = False,
) -> FeedPage:
    """The passages after ``cursor`` as items (``ActionRefused`` for a bad cursor or limit)."""
    encoder = feed_encoder(compound, pseudonym, profile, documents)
    page = read_lines(cursor, limit=limit, reader=reader, encoder=encoder, documents=documents)
    return FeedPage([json.loads(line) for line in page.lines], page.next_cursor, page.count)


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


def _encoder_of(
    compound: CompoundAddress, pseudonym: Pseudonym, profile: FeedProfile, documents: bool
) -> FeedEncoder:
    return FeedEncoder(
        compound_code=compound.code,
        house_code=lambda building, unit, room: house_code(compound, Place(building, unit, room)),
        address=lambda building, unit, room: address(compound, Place(building, unit, room)) or {},
        floor_of=floor_of,
        pseudonym=pseudonym,
        shape=profile.value,
        open_type=OPEN_TYPE,
        direction_code=DIRECTION_CODE,
        documents=documents,
    )


# An encoder's caches are keyed by everything they depend on (the place of a household
# with the household), so one encoder serves every request with the same settings.
feed_encoder = functools.lru_cache(maxsize=32)(_encoder_of)
"""The (shared) encoder of items in ``profile`` for this compound and pseudonyms."""


def _batch(row: FeedRow) -> FeedBatch:
    """A ``FeedRow`` as a batch of one raw row (``feed_encoder.RAW_COLUMNS``), no document."""
    place = row.place
    where = (place.building, place.unit, place.room) if place else None
    raw = (
        row.seq,
        row.uuid,
        utc_text(row.at),
        row.lane,
        row.direction,
        row.credential_kind,
        row.identity_kind,
        row.person_ref,
        row.household_ref,
        row.outcome,
        row.opens_barrier,
        json.dumps([{"code": code} for code in row.reason_codes]),
        json.dumps(row.rule_ids),
        row.decided_by,
        row.overrides_seq,
        row.temperature,
        None,
    )
    return FeedBatch([raw], {row.household_ref: where} if row.household_ref else {}, {})


def standard_item(row: FeedRow, compound: CompoundAddress, pseudonym: Pseudonym) -> dict[str, Any]:
    """One passage in our own shape (see the module docstring)."""
    line = feed_encoder(compound, pseudonym, FeedProfile.STANDARD, False).lines(_batch(row))
    item: dict[str, Any] = json.loads(line[0])
    return item


def viid_item(row: FeedRow, compound: CompoundAddress, pseudonym: Pseudonym) -> dict[str, Any]:
    """One passage as a GA/T 1400-style object (PascalCase, our fields under Extension)."""
    line = feed_encoder(compound, pseudonym, FeedProfile.VIID, False).lines(_batch(row))
    item: dict[str, Any] = json.loads(line[0])
    return item


_VIID_PLACE = (
    ("HouseID", "house_code"),
    ("BuildingNo", "building"),
    ("UnitNo", "unit"),
    ("FloorNo", "floor"),
    ("RoomNo", "room"),
)


def viid_of_standard(item: Mapping[str, Any]) -> dict[str, Any]:
    """A standard item as the GA/T 1400-style object the encoder makes of its passage.

    For items that are all there is (the hub's, pushed by the compounds' gates):
    ``CommunityID`` and ``DeviceID`` name the item's compound, ``OpenResult`` is its
    ``outcome`` being ``allow`` (the barrier was to open), and the masked document fields
    go under ``Extension`` when the item has them. Keys in the encoder's order.
    """
    place = item["address"] or {}
    compound = item["compound_id"]
    extension: dict[str, Any] = {
        "Outcome": item["outcome"],
        "Reasons": item["reasons"],
        "RuleIDs": item["rule_ids"],
        "DecidedBy": item["decided_by"],
        "OverridesSerialNo": item["overrides_seq"],
        "IdentityKind": item["identity_kind"],
        "Temperature": item["temperature"],
    }
    if "document_masked" in item or "document_type" in item:
        extension["DocumentMasked"] = item.get("document_masked")
        extension["DocumentType"] = item.get("document_type")
    return {
        "RecordID": item["uuid"],
        "CommunityID": compound,
        "DeviceID": f"{compound}-{item['lane']}",
        "Direction": item["direction_code"],
        "OpenType": item["open_type"],
        "OpenTime": item["local_time"],
        "OpenResult": "1" if item["outcome"] == "allow" else "0",
        "PersonID": item["person"],
        **{name: place.get(field) for name, field in _VIID_PLACE},
        "SerialNo": item["seq"],
        "DataStatus": "1",
        "Extension": extension,
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


DOCUMENT_COLUMNS = ("document_masked", "document_type")  # for a caller with the scope


def csv_row(item: dict[str, Any], columns: Sequence[str] = CSV_COLUMNS) -> list[Any]:
    """A standard item as a CSV row (``CSV_COLUMNS``, then any ``DOCUMENT_COLUMNS``)."""
    place = item["address"] or {}
    values = {
        **item,
        "house_code": place.get("house_code"),
        "reasons": " ".join(item["reasons"]),
        "rule_ids": " ".join(item["rule_ids"]),
    }
    return [values.get(column) for column in columns]
