"""`gate simulate --day`: a small simulated day on the demo compound, and a crash in one."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from devices.memory_barrier import RecordingBarrier
from gate.app.actor import Actor
from gate.app.simulation import DayOptions, SimLane, plan_day
from gate.app.simulation_run import SimulatedClock, simulate_day
from gate.domain.status import start_of_local_day
from gate.runtime.bootstrap import Services, build_gate
from registry.chain_check import verify_chain
from registry.demo import generate_demo
from registry.demo_seed import seed_demo
from registry.models import Passage
from registry.simulation_cards import registered_cards
from tests.e2e.conftest import populate
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import gate

pytestmark = pytest.mark.slow

DAY = date(2026, 12, 2)
LANES = (SimLane("main", thermometer=True),)
TIMINGS = {"seconds", "passages_per_second"}


def seed(services: Services) -> None:
    demo = generate_demo(seed=2020, today=DAY)
    with services.database.session() as session:
        seed_demo(
            session,
            cipher=services.cipher,
            demo=demo,
            compound_code="ruyi",
            compound_name="如意小区",
            now=datetime.now(UTC),
            actor="test",
            origin="test",
        )


def play(services: Services, *, scale: float, seed_value: int = 7, epidemic: bool = False):
    clock = SimulatedClock(start_of_local_day(DAY))
    gate = build_gate(services, barrier=RecordingBarrier(), clock=clock)
    cards = registered_cards(services.database, services.cipher)
    options = DayOptions(DAY, seed_value, LANES, scale=scale, epidemic=epidemic)
    plan = plan_day(gate.snapshots.current(), cards, options)
    tally = simulate_day(
        plan,
        actor=Actor("test", "test", datetime.now(UTC)),
        units=services.units,
        signer=services.pass_signer,
        pipeline=gate.pipeline,
        snapshots=gate.snapshots,
        clock=clock,
    )
    return plan, tally


def test_a_small_day_gives_every_outcome_denies_quarantined_exits_and_keeps_the_chain(
    services: Services,
) -> None:
    seed(services)
    cards = registered_cards(services.database, services.cipher)
    clock = SimulatedClock(start_of_local_day(DAY))
    snapshot = build_gate(services, clock=clock).snapshots.current()
    options = DayOptions(DAY, 7, LANES, scale=0.05)
    # The plan is pure: same inputs, same plan; another seed, another day.
    assert plan_day(snapshot, cards, options) == plan_day(snapshot, cards, options)
    other = DayOptions(DAY, 8, LANES, scale=0.05)
    assert plan_day(snapshot, cards, other).passages != plan_day(snapshot, cards, options).passages

    plan, tally = play(services, scale=0.05)
    assert set(tally.by_outcome) == {"allow", "review", "deny"}
    assert tally.passages == sum(tally.by_outcome.values())
    assert tally.unlogged == 0
    assert tally.by_reason["fever"] == 1
    assert tally.by_credential["qr_pass"] > 0
    with services.database.session() as session:
        rows = session.execute(
            select(Passage.person_ref, Passage.direction, Passage.outcome, Passage.identity_kind)
        ).all()
    assert len(rows) == tally.passages
    quarantined_exits = [row for row in rows if row[0] in plan.quarantined and row[1] == "out"]
    assert quarantined_exits
    assert {row[2] for row in quarantined_exits} == {"deny"}
    outsiders = [row for row in rows if row[3] == "outsider"]
    assert outsiders
    assert {row[2] for row in outsiders} == {"review"}
    # Presence is kept consistent: anti-passback fires only for those who tailgated.
    assert tally.by_reason["passback"] <= tally.walked_through
    report = verify_chain(services.database, chain_key=services.chain_key.material)
    assert report.intact
    assert report.checked == tally.passages


def test_the_epidemic_rules_bring_household_quota_hits(services: Services) -> None:
    seed(services)
    _, tally = play(services, scale=0.1, epidemic=True)
    assert tally.by_reason["household_quota"] > 0
    assert tally.by_reason["curfew"] > 0
    # Only for the simulation: the registry's quota rule is still not in force.
    with services.database.session() as session:
        from registry.stores import all_rules

        quota = next(rule for rule in all_rules(session) if rule.rule_id == "household-quota")
    assert quota.effective_from is None


def clone(services: Services, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A copy of the test's database as it is now; its URL (dropped after the test)."""
    url = services.settings.effective_database_url
    if url.startswith("sqlite"):
        copy = tmp_path / "copy.db"
        with sqlite3.connect(make_url(url).database or "") as source:
            target = sqlite3.connect(copy)
            source.backup(target)
            target.close()
        return f"sqlite:///{copy}"
    server = request.getfixturevalue("postgres_server")
    services.database.dispose()  # a template database must have no connections
    copied: str = server.create(template=url)
    request.addfinalizer(lambda: server.drop(copied))
    return copied


def test_same_seed_same_counts_through_the_command(
    services: Services, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    seed(services)
    env = env_of(services)
    twin = {**env, "GATE_DATABASE_URL": clone(services, request, tmp_path)}
    args = ("simulate", "--day", "--date", DAY.isoformat(), "--seed", "5", "--scale", "0.03")
    summaries = []
    for where in (env, twin):
        result = gate(where, *args, "--json")
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        summary = lines[-1]["summary"]
        assert len(lines) - 1 == summary["passages"]
        assert Counter(line["outcome"] for line in lines[:-1]) == summary["by_outcome"]
        summaries.append({key: value for key, value in summary.items() if key not in TIMINGS})
    assert summaries[0] == summaries[1]
    text = gate(env, *args)
    assert text.returncode == 0, text.stderr
    assert "outcome:" in text.stdout
    assert "quarantined exits:" in text.stdout


def test_every_passage_reported_before_a_kill_is_in_the_log(services: Services) -> None:
    """Killed three times in a row (issue 13, proof 1): no reported passage is lost."""
    seed(services)
    env = env_of(services)
    reported: list[dict[str, object]] = []
    for kill_after in (200, 70, 140):  # each run starts the day again on the same log
        reported += killed_simulation(env, kill_after)
    with services.database.session() as session:
        logged = {
            seq: (uuid, outcome)
            for seq, uuid, outcome in session.execute(
                select(Passage.seq, Passage.uuid, Passage.outcome)
            )
        }
    assert len(reported) >= 410
    assert len({shown["seq"] for shown in reported}) == len(reported)  # none reported twice
    for shown in reported:
        assert logged[shown["seq"]] == (shown["uuid"], shown["outcome"]), shown  # type: ignore[index]
    assert sorted(logged) == list(range(1, len(logged) + 1))
    report = verify_chain(services.database, chain_key=services.chain_key.material)
    assert report.intact
    assert report.checked == len(logged) >= len(reported)


def killed_simulation(env: dict[str, str], kill_after: int) -> list[dict[str, object]]:
    """``gate simulate --day --json`` SIGKILLed after ``kill_after`` lines: what it reported."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gate",
            "simulate",
            "--day",
            "--date",
            DAY.isoformat(),
            "--scale",
            "0.3",
            "--json",
        ],
        env={**env, "GATE_LOG_LEVEL": "WARNING"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    reported: list[dict[str, object]] = []
    try:
        for line in process.stdout:
            reported.append(json.loads(line))
            if len(reported) >= kill_after:
                break
    finally:
        process.send_signal(signal.SIGKILL)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # Whatever else was printed before the kill landed counts too (a torn last line not).
    reported += [json.loads(line) for line in rest.splitlines(keepends=True) if line.endswith("\n")]
    assert len(reported) >= kill_after
    assert "summary" not in reported[-1]
    return reported


def test_a_registry_the_demo_did_not_fill_is_refused_unless_said(services: Services) -> None:
    """The log is append-only: a simulated day on a compound's own registry stays there."""
    populate(services)  # a registry filled by the office, not by gate demo seed
    env = env_of(services)
    args = ("simulate", "--day", "--date", DAY.isoformat(), "--scale", "0.05", "--json")
    refused = gate(env, *args)
    assert refused.returncode == 1
    assert "gate demo seed" in refused.stderr
    assert "--any-registry" in refused.stderr
    with services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Passage)) == 0
    allowed = gate(env, *args, "--any-registry")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout.splitlines()[-1])["summary"]["passages"] > 0
