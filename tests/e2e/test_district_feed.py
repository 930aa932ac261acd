"""The district feed over the real log, on each engine: exactly once, in order, in both shapes.

Writers append through the real pipeline from several threads and two gates (two engines,
as two processes would) while a puller pages through the feed with a small page size;
every row must arrive once, in sequence order, with nothing skipped. The two item shapes
are checked against snapshot files (times, uuids and pseudonyms, which change per run,
replaced by placeholders).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from devices.memory_barrier import RecordingBarrier
from gate.app.district_feed import (
    DIRECTION_CODE,
    OPEN_TYPE,
    CompoundAddress,
    FeedProfile,
    floor_of,
    parse_cursor,
    read_page,
)
from gate.domain.documents import DocumentType
from gate.domain.errors import ActionRefused
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.runtime.bootstrap import build_gate
from registry.chain_check import verify_chain
from registry.feed_reader import SqlFeedReader
from tests.e2e.conftest import OUTSIDER, QUARANTINED, RESIDENT_A, RESIDENT_B, GateUnderTest

SNAPSHOTS = Path(__file__).parent / "snapshots"
COMPOUND = CompoundAddress(
    code="ruyi",
    name="如意小区",
    province="内蒙古自治区",
    city="呼和浩特市",
    district="新城区",
    street="东街街道",
    community="如意社区",
)


def _pseudonym(kind: str, ref: str) -> str:
    return f"{kind}:{ref}"


def _card(number: str) -> Credential:
    return Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, number)
    )


@pytest.mark.slow
def test_concurrent_writers_and_a_puller_see_every_row_exactly_once_in_order(
    gate_under_test: GateUnderTest,
) -> None:
    services = gate_under_test.services
    second = build_gate(services, barrier=RecordingBarrier(), clock=gate_under_test.clock)
    pipelines = [gate_under_test.gate.pipeline, second.pipeline]
    per_writer, writers = 60, 4
    written: list[str] = []
    written_lock = threading.Lock()
    done = threading.Event()
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            pipeline = pipelines[index % 2]
            for number in range(per_writer):
                who = (RESIDENT_A, RESIDENT_B, QUARANTINED, OUTSIDER)[(index + number) % 4]
                direction = Direction.IN if number % 2 else Direction.OUT
                result = pipeline.process(_card(who), lane="main", direction=direction)
                assert result.record is not None
                with written_lock:
                    written.append(result.record.entry.uuid)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    reader = SqlFeedReader(services.database)
    seen: list[tuple[int, str]] = []

    def pull() -> None:
        cursor = None
        try:
            while True:
                finished = done.is_set()  # read before the page: a last page after the end
                page = read_page(
                    cursor, limit=7, reader=reader, compound=COMPOUND, pseudonym=_pseudonym
                )
                seen.extend((item["seq"], item["uuid"]) for item in page.items)
                cursor = page.next_cursor
                # A district pulls from another process; in this one the puller must not
                # hold the GIL from a writer that holds the log's lock.
                time.sleep(0.001)
                if finished and not page.items:
                    return
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    puller = threading.Thread(target=pull)
    puller.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    puller.join(timeout=60)
    assert not errors, errors
    total = per_writer * writers
    assert [seq for seq, _ in seen] == list(range(1, total + 1))  # none skipped, none twice
    assert sorted(uuid for _, uuid in seen) == sorted(written)
    assert verify_chain(services.database, chain_key=services.chain_key.material).intact


def _normalised(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items with what differs per run (uuids, refs behind the pseudonyms) as placeholders."""
    text = json.dumps(items, ensure_ascii=False, sort_keys=True)
    for item in items:
        for key in ("uuid", "RecordID"):
            if key in item:
                text = text.replace(item[key], "<uuid>")
    payload: list[dict[str, Any]] = json.loads(text)
    for item in payload:
        for key in ("person", "household", "PersonID"):
            if item.get(key):
                item[key] = item[key].split(":")[0] + ":<ref>"
    return payload


@pytest.mark.parametrize("profile", list(FeedProfile))
def test_a_page_in_each_shape_matches_its_snapshot(
    gate_under_test: GateUnderTest, profile: FeedProfile
) -> None:
    gate_under_test.card(RESIDENT_A, Direction.OUT)
    gate_under_test.card(QUARANTINED, Direction.OUT)
    gate_under_test.card(OUTSIDER, Direction.IN)
    page = read_page(
        None,
        limit=10,
        reader=SqlFeedReader(gate_under_test.services.database),
        compound=COMPOUND,
        pseudonym=_pseudonym,
        profile=profile,
    )
    assert page.next_cursor == "v1.3"
    expected = json.loads((SNAPSHOTS / f"feed-{profile.value}.json").read_text(encoding="utf-8"))
    assert _normalised(page.items) == expected
    # Nothing of a document number, whole or masked, is in a feed item.
    assert RESIDENT_A not in json.dumps(page.items)
    assert OUTSIDER[-4:] not in json.dumps(page.items)


def test_every_credential_kind_and_direction_has_its_platform_code() -> None:
    assert set(OPEN_TYPE) == set(CredentialKind)
    assert OPEN_TYPE[CredentialKind.ID_CARD] == "100501"
    assert OPEN_TYPE[CredentialKind.FACE] == "100201"
    assert OPEN_TYPE[CredentialKind.QR_PASS] == "100701"
    assert OPEN_TYPE[CredentialKind.MANUAL] == "100501"
    assert DIRECTION_CODE == {Direction.IN: "1", Direction.OUT: "2"}
    assert [floor_of(room) for room in ("502", "1203", "12", "B1", "101")] == [
        "5",
        "12",
        None,
        None,
        "1",
    ]


def test_a_bad_cursor_or_limit_is_refused() -> None:
    assert parse_cursor(None) == 0
    assert parse_cursor("v1.42") == 42
    for bad in ("42", "v1.-1", "v2.3", "v1.", "v1.1e3", "v1." + "9" * 19):
        with pytest.raises(ActionRefused) as refused:
            parse_cursor(bad)
        assert refused.value.code == "feed_cursor"
