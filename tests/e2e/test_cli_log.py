"""The operator's view of the log: `gate passage`, `gate log verify` catching an edited row."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from gate.runtime.bootstrap import Services
from tests.e2e.conftest import QUARANTINED, RESIDENT_A, RESIDENT_B, populate
from tests.e2e.test_serve import gate


def env_of(services: Services) -> dict[str, str]:
    from tests.e2e.test_serve import gate_env

    settings = services.settings
    env = gate_env(Path(settings.data_dir).parent, settings.effective_database_url)
    env.update(
        GATE_DATA_DIR=str(settings.data_dir), GATE_SECRETS__KEY_FILE=str(settings.secrets.key_file)
    )
    return env


def test_gate_passage_prints_the_decision_and_log_verify_names_an_edited_row(
    services: Services,
) -> None:
    populate(services)
    env = env_of(services)
    allowed = gate(env, "passage", "--id-number", RESIDENT_A, "--direction", "out", "--json")
    assert allowed.returncode == 0, allowed.stderr
    decision = json.loads(allowed.stdout)
    # No lane of this configuration has a barrier: the command says nothing moved.
    assert (decision["seq"], decision["outcome"]) == (1, "allow")
    assert (decision["barrier_opened"], decision["barrier"]) == (False, "no_barrier")
    assert RESIDENT_A not in allowed.stdout
    said = gate(env, "passage", "--id-number", RESIDENT_B, "--direction", "out")
    assert "no barrier configured for this lane: nothing opened" in said.stdout
    assert "barrier opened" not in said.stdout
    denied = json.loads(
        gate(env, "passage", "--id-number", QUARANTINED, "--direction", "out", "--json").stdout
    )
    assert (denied["outcome"], denied["reasons"][0]["code"]) == ("deny", "quarantine_no_exit")
    intact = gate(env, "log", "verify")
    assert intact.returncode == 0
    assert "intact: 3 rows" in intact.stdout
    with services.database.engine.begin() as connection:
        connection.execute(text("UPDATE passages SET outcome = 'allow' WHERE seq = 3"))
    broken = gate(env, "log", "verify")
    assert broken.returncode == 1
    assert "BROKEN at row 3" in broken.stderr


def test_gate_exemption_add_validates_like_the_office_page(services: Services) -> None:
    """The CLI goes through the same use case as the web: same refusals, one-line errors."""
    populate(services)
    env = env_of(services)
    base = ("exemption", "add", "--id-number", RESIDENT_A, "--rules", "household-quota")
    for extra, expected in (
        (("--reason", "x" * 5000), "error: too long (field=reason, limit=200)"),
        (("--reason", "复工证明", "--until", "2020-01-01"), "error: date past"),
        (("--reason", "   "), "error: required (field=reason)"),
        (("--reason", "复工证明", "--until", "tomorrow"), "error: date format (field=--until)"),
    ):
        refused = gate(env, *base, *extra)
        assert refused.returncode == 1, refused.stdout
        assert refused.stderr.strip() == expected
        assert "Traceback" not in refused.stderr
    with services.database.session() as session:
        assert session.scalar(text("SELECT count(*) FROM exemptions")) == 0
    accepted = gate(env, *base, "--reason", "复工证明", "--until", "2099-12-31")
    assert accepted.returncode == 0, accepted.stderr
    with services.database.session() as session:
        assert session.scalar(text("SELECT count(*) FROM exemptions")) == 1
        actions = session.scalars(text("SELECT action FROM audit_events")).all()
    assert actions.count("exemption.add") == 1
