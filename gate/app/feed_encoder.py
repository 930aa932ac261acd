"""The district feed's items as JSON text, one line a passage, built from cached fragments.

The feed streams up to a million rows in one request, so a row costs a few microseconds
or the goal (150,000 rows/s) is out of reach. Building a dict per row and serialising it
was most of the cost; here most of a line is text made once and reused:

- a household's pseudonym and standard address (a few thousand households),
- a person's pseudonym (``Pseudonym`` is remembered as well),
- what the lane, direction, credential, identity and decision give (a few hundred
  combinations: the reasons and rules come as the log's JSON text and are parsed once),
- an hour's date and local hour: the log keeps UTC as ``YYYY-MM-DD HH:MM:SS[.ffffff]``
  text, and in any hour where ``LOCAL_TZ`` keeps one whole-hour offset (Asia/Shanghai:
  every hour since 1991) the local time is that text with the hour's local prefix. An
  hour with a change of offset, or an offset that is not whole hours, takes the
  ``datetime`` path for each of its rows, so the answer is right for any zone
  (``zone``: ``LOCAL_TZ`` but in tests).

Only the values that differ per row (uuid, seq, minutes and seconds, the overridden
row, the temperature) are formatted per row. Strings are escaped with ``json.dumps``
when a fragment is made; a uuid that needs escaping (never one of ours) takes that path.
The masked document (``documents``) is one more fragment, keyed by ``type:last4``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final, NamedTuple

from gate.domain.documents import masked_number
from gate.domain.model import CredentialKind
from gate.domain.status import LOCAL_TZ

# The columns of a raw feed row, in order (``registry.feed_reader`` selects them).
RAW_COLUMNS: Final = (
    "seq",
    "uuid",
    "at",  # UTC: ``YYYY-MM-DD HH:MM:SS[.ffffff]`` text, or an aware datetime
    "lane",
    "direction",
    "credential_kind",
    "identity_kind",
    "person_ref",
    "household_ref",
    "outcome",
    "opens_barrier",
    "reasons",  # the log's JSON text: [{"code": ..., ...}, ...]
    "rule_ids",  # the log's JSON text: ["rule", ...]
    "decided_by",
    "overrides_seq",
    "temperature",
    "document_hash",  # only when documents are asked for, else None
)
_CACHE_LIMIT = 100_000  # entries per cache; past it the cache starts again (never in practice)
_HOUR = timedelta(hours=1)
_LAST_MICROSECOND = timedelta(hours=1, microseconds=-1)

Fragments = tuple[bytes, ...]


class FeedBatch(NamedTuple):
    """A page of raw rows and what they refer to, as the reader found it for this request."""

    rows: Sequence[Sequence[Any]]  # ``RAW_COLUMNS``
    places: Mapping[str, tuple[str, str, str] | None]  # household ref: building, unit, room
    documents: Mapping[str, str | None]  # document hash or person ref: ``doc_type:last4``


def _text(value: Any) -> str:
    """``value`` as JSON (no ASCII escaping: the feed is UTF-8)."""
    return json.dumps(value, ensure_ascii=False)


def utc_text(moment: datetime) -> str:
    """A datetime as the log's UTC text (what SQLite gives; PostgreSQL gives datetimes)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(sep=" ", timespec="microseconds")[:26]


class FeedEncoder:
    """Makes the JSON line of each raw feed row, in one shape (one encoder per request).

    ``shape`` is ``standard`` or ``viid``; ``documents`` adds the masked document fields
    (``standard``: ``document_masked`` and ``document_type``; ``viid``: under ``Extension``
    as ``DocumentMasked`` and ``DocumentType``), null for a passage whose document is on
    no list; without it the fields are absent.
    """

    def __init__(
        self,
        *,
        compound_code: str,
        house_code: Callable[[str, str, str], str],
        address: Callable[[str, str, str], dict[str, Any]],
        floor_of: Callable[[str], str | None],
        pseudonym: Callable[[str, str], str],
        shape: str,
        open_type: Mapping[Any, str],
        direction_code: Mapping[Any, str],
        documents: bool,
        zone: tzinfo = LOCAL_TZ,
    ) -> None:
        self._code = compound_code
        self._house_code = house_code
        self._address = address
        self._floor_of = floor_of
        self._pseudonym = pseudonym
        self._open_type = open_type
        self._direction_code = direction_code
        self._viid = shape == "viid"
        self._documents = documents
        self._zone = zone
        code = _text(compound_code).replace("%", "%%")
        template: str
        if self._viid:
            template = (
                '{"RecordID":"%s","CommunityID":' + code + ",%s"
                ',"OpenTime":"%s",%s,"PersonID":%s,%s,"SerialNo":%d,"DataStatus":"1",'
                '"Extension":{%s,"OverridesSerialNo":%s,%s,"Temperature":%s%s'
            )
        else:
            template = (
                '{"uuid":"%s","seq":%d,"serial":%d,"compound_id":' + code + ",%s,"
                '"at_utc":"%s+00:00","at_local":"%s","local_time":"%s","event_time":"%s",'
                '"received_at":"%s","replayed":false,%s,"person":%s,%s,%s,'
                '"overrides_seq":%s,"temperature":%s%s'
            )
        self._template = template.encode()
        self._hours: dict[bytes, tuple[bytes, bytes, bytes, bytes]] = {}
        self._people: dict[str | None, bytes] = {None: b"null"}
        self._places: dict[tuple[str | None, tuple[str, str, str] | None], bytes] = {}
        self._decisions: dict[tuple[Any, ...], Fragments] = {}
        # The document fields close the item, so that no fragment is empty (a cache miss).
        self._close = b"}}" if self._viid else b"}"
        self._masked: dict[str | None, bytes] = {}
        self._document(None)

    def lines(self, batch: FeedBatch) -> list[bytes]:
        """The JSON text of each row (UTF-8, no newline), in order."""
        line = self._viid_line if self._viid else self._standard_line
        places, documents = batch.places, batch.documents
        return [line(row, places, documents) for row in batch.rows]

    # --- per row ------------------------------------------------------------------------

    def _standard_line(
        self,
        row: Sequence[Any],
        places: Mapping[str, tuple[str, str, str] | None],
        documents: Mapping[str, str | None],
    ) -> bytes:
        (seq, uuid, at, lane, direction, credential, identity, person, household, outcome,
         opens, reasons, rules, decided_by, overrides, temperature, document) = row  # fmt: skip
        at = at.encode() if at.__class__ is str else utc_text(at).encode()
        hour = self._hours.get(at[:13]) or self._hour(at[:13])
        frac = at[19:26]
        if frac == b".000000":
            frac = b""
        if not hour[0]:
            at_utc, at_local, compact = self._slow_time(at)
        else:
            rest = at[13:19] + frac
            at_utc = hour[0] + rest
            at_local = hour[1] + rest + hour[3]
            compact = hour[2] + at[14:16] + at[17:19]
        key = (lane, direction, credential, identity, outcome, opens, reasons, rules, decided_by)
        parts = self._decisions.get(key) or self._decision(key)
        where = places.get(household)
        place = self._places.get((household, where)) or self._place(household, where)
        return self._template % (
            uuid.encode() if _plain(uuid) else _text(uuid)[1:-1].encode(),
            seq,
            seq,
            parts[0],
            at_utc,
            at_local,
            compact,
            at_local,
            at_local,
            parts[1],
            self._people.get(person) or self._person(person),
            place,
            parts[2],
            b"null" if overrides is None else b"%d" % overrides,
            b"null" if temperature is None else repr(temperature).encode(),
            self._masked.get(masked := documents.get(document or person)) or self._document(masked),
        )

    def _viid_line(
        self,
        row: Sequence[Any],
        places: Mapping[str, tuple[str, str, str] | None],
        documents: Mapping[str, str | None],
    ) -> bytes:
        (seq, uuid, at, lane, direction, credential, identity, person, household, outcome,
         opens, reasons, rules, decided_by, overrides, temperature, document) = row  # fmt: skip
        at = at.encode() if at.__class__ is str else utc_text(at).encode()
        hour = self._hours.get(at[:13]) or self._hour(at[:13])
        compact = hour[2] + at[14:16] + at[17:19] if hour[0] else self._slow_time(at)[2]
        key = (lane, direction, credential, identity, outcome, opens, reasons, rules, decided_by)
        parts = self._decisions.get(key) or self._decision(key)
        where = places.get(household)
        place = self._places.get((household, where)) or self._place(household, where)
        return self._template % (
            uuid.encode() if _plain(uuid) else _text(uuid)[1:-1].encode(),
            parts[0],
            compact,
            parts[1],
            self._people.get(person) or self._person(person),
            place,
            seq,
            parts[2],
            b"null" if overrides is None else b"%d" % overrides,
            parts[3],
            b"null" if temperature is None else repr(temperature).encode(),
            self._masked.get(masked := documents.get(document or person)) or self._document(masked),
        )

    # --- fragments, made once -----------------------------------------------------------

    def _hour(self, key: bytes) -> tuple[bytes, bytes, bytes, bytes]:
        """The hour's UTC and local prefixes and offset; empty if it needs the slow path."""
        if len(self._hours) >= _CACHE_LIMIT:
            self._hours.clear()
        start = datetime.fromisoformat(key.decode() + ":00:00").replace(tzinfo=UTC)
        offset = start.astimezone(self._zone).utcoffset()
        last = (start + _LAST_MICROSECOND).astimezone(self._zone).utcoffset()
        hour = (b"", b"", b"", b"")
        if offset is not None and offset == last and offset % _HOUR == timedelta(0):
            local = start.astimezone(self._zone)
            local_iso = local.isoformat()  # YYYY-MM-DDTHH:00:00+08:00
            hour = (
                start.isoformat()[:13].encode(),
                local_iso[:13].encode(),
                (local_iso[0:4] + local_iso[5:7] + local_iso[8:10] + local_iso[11:13]).encode(),
                local_iso[19:].encode(),
            )
        self._hours[key] = hour
        return hour

    def _slow_time(self, at: bytes) -> tuple[bytes, bytes, bytes]:
        moment = datetime.fromisoformat(at.decode()).replace(tzinfo=UTC)
        local = moment.astimezone(self._zone)
        local_iso = local.isoformat()
        compact = (
            f"{local.year:04d}{local.month:02d}{local.day:02d}"
            f"{local.hour:02d}{local.minute:02d}{local.second:02d}"
        )
        return moment.isoformat()[:-6].encode(), local_iso.encode(), compact.encode()

    def _person(self, ref: str | None) -> bytes:
        if len(self._people) >= _CACHE_LIMIT:
            self._people.clear()
            self._people[None] = b"null"
        text = _text(self._pseudonym("person", ref)).encode() if ref else b"null"
        self._people[ref] = text
        return text

    def _place(self, household: str | None, where: tuple[str, str, str] | None) -> bytes:
        if len(self._places) >= _CACHE_LIMIT:
            self._places.clear()
        if self._viid:
            if where is not None:
                building, unit, room = where
                values = {
                    "HouseID": self._house_code(building, unit, room),
                    "BuildingNo": building,
                    "UnitNo": unit,
                    "FloorNo": self._floor_of(room),
                    "RoomNo": room,
                }
            else:
                values = dict.fromkeys(("HouseID", "BuildingNo", "UnitNo", "FloorNo", "RoomNo"))
            text = ",".join(f"{_text(name)}:{_text(value)}" for name, value in values.items())
            fragment = text.encode()
        else:
            pseudonym = self._pseudonym("household", household) if household else None
            address = self._address(*where) if where is not None else None
            fragment = f'"household":{_text(pseudonym)},"address":{_text(address)}'.encode()
        self._places[(household, where)] = fragment
        return fragment

    def _decision(self, key: tuple[Any, ...]) -> Fragments:
        if len(self._decisions) >= _CACHE_LIMIT:
            self._decisions.clear()
        lane, direction, credential, identity, outcome, opens, reasons, rules, decided_by = key
        codes = [reason["code"] for reason in _json(reasons)]
        rule_ids = _json(rules)
        by = "guard" if decided_by.startswith("guard:") else decided_by
        direction_code = self._direction_code[direction]
        open_type = self._open_type[credential]
        parts: tuple[str, ...]
        if self._viid:
            parts = (
                f'"DeviceID":{_text(f"{self._code}-{lane}")},"Direction":{_text(direction_code)},'
                f'"OpenType":{_text(open_type)}',
                f'"OpenResult":"{"1" if opens else "0"}"',
                f'"Outcome":{_text(outcome)},"Reasons":{_text(codes)},'
                f'"RuleIDs":{_text(rule_ids)},"DecidedBy":{_text(by)}',
                f'"IdentityKind":{_text(identity)}',
            )
        else:
            manual = "true" if credential == CredentialKind.MANUAL else "false"
            parts = (
                f'"lane":{_text(lane)},"direction":{_text(direction)},'
                f'"direction_code":{_text(direction_code)}',
                f'"credential_kind":{_text(credential)},"open_type":{_text(open_type)},'
                f'"manual":{manual},"identity_kind":{_text(identity)}',
                f'"outcome":{_text(outcome)},"reasons":{_text(codes)},'
                f'"rule_ids":{_text(rule_ids)},"decided_by":{_text(by)}',
            )
        fragments = tuple(part.encode() for part in parts)
        self._decisions[key] = fragments
        return fragments

    def _document(self, document: str | None) -> bytes:
        """The masked-document fields of ``doc_type:last4``."""
        if len(self._masked) >= _CACHE_LIMIT:
            self._masked.clear()
        if not self._documents:
            self._masked[document] = self._close
            return self._close
        masked: str | None = None
        kind: str | None = None
        if document:
            kind, _, last4 = document.partition(":")
            masked = masked_number(kind, last4)
        if self._viid:
            text = f',"DocumentMasked":{_text(masked)},"DocumentType":{_text(kind)}}}}}'
        else:
            text = f',"document_masked":{_text(masked)},"document_type":{_text(kind)}}}'
        self._masked[document] = text.encode()
        return text.encode()


def _json(value: Any) -> Any:
    """A JSON column's value: SQLite and a text cast give text, a driver may parse it."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _plain(text: str) -> bool:
    """True if ``text`` goes into a JSON string as it is (a uuid always does)."""
    return text.isprintable() and '"' not in text and "\\" not in text
