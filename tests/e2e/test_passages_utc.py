"""Every passage is stored in UTC, whatever zone the clock that stamped it speaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import DateTime, select, text

from devices.memory_barrier import RecordingBarrier
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services, build_gate
from registry.models import Base, Passage
from registry.types import UTCDateTime
from tests.e2e.conftest import RESIDENT_A, START, Clock, populate


def test_every_time_column_of_the_schema_is_utc() -> None:
    plain = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, DateTime) and not isinstance(column.type, UTCDateTime)
    ]
    assert plain == []
    assert isinstance(Passage.__table__.c.at.type, UTCDateTime)


def test_a_passage_stamped_in_shanghai_time_is_stored_and_read_as_utc(
    services: Services,
) -> None:
    populate(services)
    local = START.astimezone(LOCAL_TZ)  # 10:00+08:00, the same instant as 02:00Z
    gate = build_gate(services, barrier=RecordingBarrier(), clock=Clock(local))
    result = gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, RESIDENT_A)
        ),
        lane="main",
        direction=Direction.IN,
    )
    assert result.record is not None
    with services.database.session() as session:
        row = session.scalars(select(Passage).where(Passage.seq == result.record.seq)).one()
        raw = session.execute(
            text("SELECT at FROM passages WHERE seq = :seq"), {"seq": result.record.seq}
        ).scalar_one()
    logged_at = services.passages.tail(1)[-1].entry.at
    for moment in (row.at, logged_at):
        assert moment == START
        assert moment.utcoffset() == timedelta(0)
    if isinstance(raw, str):  # SQLite keeps the text: the UTC wall time, not 10:00
        assert raw.startswith("2026-11-29 02:00:00")
    else:  # PostgreSQL: timestamptz, one instant
        assert isinstance(raw, datetime)
        assert raw.astimezone(UTC) == START


def test_a_naive_time_is_refused_before_it_reaches_the_database() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 11, 29, 10, 0), dialect=None)  # type: ignore[arg-type]  # noqa: DTZ001
