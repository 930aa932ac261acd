"""Passages purged under retention: the chain still verifies, from a signed checkpoint.

``gate retention run`` deletes the oldest rows only after signing their boundary (the last
purged row's seq and hash) into the anchor file; ``gate log verify`` then checks the rest
from that checkpoint and still names rows cut from the end, and rows deleted from the start
without a checkpoint. Both engines, the commands as the operator runs them.
"""

from __future__ import annotations

from sqlalchemy import select, text

from gate.domain.anchors import parse_anchor
from gate.domain.model import Direction
from gate.runtime.log_keys import anchor_file_path
from registry.models import AuditEvent, Passage
from tests.e2e.conftest import RESIDENT_A, RESIDENT_B, GateUnderTest
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_log_anchors import cut_back_to, five_passages
from tests.e2e.test_serve import gate


def seqs(under_test: GateUnderTest) -> list[int]:
    with under_test.services.database.session() as session:
        return list(session.scalars(select(Passage.seq).order_by(Passage.seq)))


def test_a_purge_leaves_a_log_that_verifies_from_its_checkpoint_and_still_shows_a_cut(
    gate_under_test: GateUnderTest,
) -> None:
    services = gate_under_test.services
    five_passages(gate_under_test)  # at the test clock's start, days before today
    env = {**env_of(services), "GATE_RETENTION__PASSAGE_DAYS": "1"}
    dry = gate(env, "retention", "run", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "passages: would delete 4 (purged_to 4)" in dry.stdout
    assert seqs(gate_under_test) == [1, 2, 3, 4, 5]

    ran = gate(env, "retention", "run")
    assert ran.returncode == 0, ran.stderr
    assert "passages: deleted 4 (purged_to 4)" in ran.stdout
    assert seqs(gate_under_test) == [5]  # the head row stays
    checkpoint = parse_anchor(anchor_file_path(services.settings).read_text().splitlines()[-1])
    assert (checkpoint.purged_to, checkpoint.seq) == (4, 5)
    with services.database.session() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge"))
        assert [(row.target, row.detail["deleted"]) for row in audit] == [("retention:passages", 4)]

    verified = gate(env, "log", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "passage log intact: 1 rows" in verified.stdout
    assert "rows 1-4 purged under retention on" in verified.stdout
    assert "checked from checkpoint (anchor 2)" in verified.stdout
    assert gate(env, "retention", "run").stdout.count("deleted 0") == 5  # nothing more

    # The log goes on from the checkpoint; a later anchor carries it.
    gate_under_test.card(RESIDENT_A, Direction.OUT)
    gate_under_test.card(RESIDENT_B, Direction.OUT)
    assert gate(env, "log", "anchor").returncode == 0
    assert (
        parse_anchor(anchor_file_path(services.settings).read_text().splitlines()[-1]).purged_to
        == 4
    )
    assert "intact: 3 rows" in gate(env, "log", "verify").stdout

    cut_back_to(services.database, 6)  # the newest row deleted, the head moved back
    broken = gate(env, "log", "verify")
    assert broken.returncode == 1, broken.stdout
    assert "log ends at seq 6 but anchor 3" in broken.stderr
    assert "rows 7-7 were removed" in broken.stderr


def test_rows_deleted_from_the_start_without_a_signed_checkpoint_are_named(
    gate_under_test: GateUnderTest,
) -> None:
    services = gate_under_test.services
    five_passages(gate_under_test)
    env = env_of(services)
    assert gate(env, "log", "anchor").returncode == 0
    with services.database.engine.begin() as connection:
        row_hash = connection.execute(text("SELECT row_hash FROM passages WHERE seq = 2")).scalar()
        connection.execute(text("DELETE FROM passages WHERE seq <= 2"))
        connection.execute(
            text("UPDATE passage_chain SET purged_to = 2, purged_hash = :h"), {"h": row_hash}
        )
    broken = gate(env, "log", "verify")
    assert broken.returncode == 1, broken.stdout
    assert "rows 1-2 are gone and no signed anchor says they were purged" in broken.stderr


def test_a_purge_taken_further_than_its_checkpoint_is_named(
    gate_under_test: GateUnderTest,
) -> None:
    services = gate_under_test.services
    five_passages(gate_under_test)
    env = {**env_of(services), "GATE_RETENTION__PASSAGE_DAYS": "1"}
    assert gate(env, "retention", "run").returncode == 0  # rows 1-4, signed
    gate_under_test.card(RESIDENT_A, Direction.OUT)
    with services.database.engine.begin() as connection:  # row 5 too, unsigned
        row_hash = connection.execute(text("SELECT row_hash FROM passages WHERE seq = 5")).scalar()
        connection.execute(text("DELETE FROM passages WHERE seq = 5"))
        connection.execute(
            text("UPDATE passage_chain SET purged_to = 5, purged_hash = :h"), {"h": row_hash}
        )
    broken = gate(env, "log", "verify")
    assert broken.returncode == 1, broken.stdout
    assert "rows 1-5 are gone and no signed anchor says they were purged" in broken.stderr
    # Leaving the head's checkpoint alone instead: the missing row is named.
    with services.database.engine.begin() as connection:
        connection.execute(text("UPDATE passage_chain SET purged_to = 4"))
        connection.execute(
            text("UPDATE passage_chain SET purged_hash = :h"),
            {
                "h": parse_anchor(
                    anchor_file_path(services.settings).read_text().splitlines()[-1]
                ).purged_hash
            },
        )
    broken = gate(env, "log", "verify")
    assert broken.returncode == 1, broken.stdout
    assert "row 5 is missing" in broken.stderr
