"""``gate serve`` killed with SIGKILL at random points of a burst, restarted each time.

The service runs as an operator runs it, with two lanes whose reader, QR scanner and
relay are emulators in this test's process (``tests.e2e.lane_rig``): the relay module
outlives each kill and holds every coil write the service made. After each kill the log
must hold a row for every pulse of each lane (a row may lack its pulse, never the other
way: at most one per input thread, two per lane); at the end, no passage twice (no uuid,
no seq, no invite let in twice), the keyed chain and every anchor verify (``gate log
verify``), the seqs run 1..N and the district feed paged from the start hands out each
once, in order.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gate.app.district_feed import read_page
from gate.runtime.bootstrap import Services
from registry.models import Passage
from tests.e2e.conftest import populate
from tests.e2e.lane_rig import Feeder, RigLane, invites, resident_passes, rig_lanes, wait_until
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import _get_json, free_port, gate

KILLS = 4
TOTAL = 1000  # passages over all the runs, at least
SEED = 13  # the kill points; printed so a failing run can be replayed


def serve(env: dict[str, str], lanes: list[RigLane]) -> tuple[subprocess.Popen[bytes], str]:
    """``gate serve`` on these lanes; returns once it answers ``/healthz``.

    Its warnings and errors go to ``serve.log`` in the data folder (appended, run after run).
    """
    port = free_port()
    errors = (Path(env["GATE_DATA_DIR"]) / "serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "gate", "serve", "--port", str(port)],
        env={
            **env,
            "GATE_LOG_LEVEL": "WARNING",
            "GATE_GATE__LANES": json.dumps([lane.config() for lane in lanes]),
        },
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    errors.close()
    url = f"http://127.0.0.1:{port}"
    try:
        _get_json(f"{url}/healthz", deadline=60)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        print((Path(env["GATE_DATA_DIR"]) / "serve.log").read_text()[-3000:])
        raise
    return process, url


def openings(services: Services) -> Counter[str]:
    """Logged passages that commanded a barrier, by lane."""
    with services.database.session() as session:
        lanes = session.scalars(select(Passage.lane).where(Passage.opens_barrier.is_(True)))
        return Counter(lanes)


def logged_count(services: Services) -> int:
    """How many passages the log holds."""
    with services.database.session() as session:
        return session.scalar(select(func.count()).select_from(Passage)) or 0


@pytest.mark.slow
def test_sigkill_at_random_points_of_a_1000_passage_burst_loses_no_commanded_passage(
    services: Services,
) -> None:
    populate(services)
    passes = invites(services, 800)
    residents = resident_passes(services)
    env = env_of(services)
    chooser = random.Random(SEED)  # noqa: S311 - kill points, not secrets
    with rig_lanes(("entry", "in"), ("exit", "out")) as lanes:
        entry, exit_lane = lanes
        position = 0
        runs: list[dict[str, object]] = []
        for run in range(KILLS + 1):
            before_pulses = {lane.id: lane.pulses() for lane in lanes}
            before_rows = openings(services)
            started = time.monotonic()
            process, _url = serve(env, lanes)
            # The new process switched every coil off as it connected: a kill during a
            # pulse leaves the barrier energised only until the service is back.
            assert not any(lane.relay.coil(0) for lane in lanes)
            feeder = Feeder(entry, exit_lane, passes, residents, start=position).start()
            last = run == KILLS
            target = chooser.randint(80, 160)
            try:
                if last:  # on to the burst's end, then a clean stop
                    wait_until(lambda: logged_count(services) >= TOTAL, timeout=90, what="the end")
                else:
                    floor = sum(before_pulses.values()) + target
                    wait_until(
                        lambda floor=floor: sum(lane.pulses() for lane in lanes) >= floor,
                        timeout=60,
                        what=f"{target} pulses in run {run}",
                    )
                # Past the threshold by a random few milliseconds: anywhere in a passage.
                time.sleep(chooser.uniform(0, 0.06))
            finally:
                if last:
                    feeder.stop()
                    process.terminate()
                else:
                    process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                feeder.stop()
            position = feeder.position
            rows = openings(services)
            left_on = [lane.id for lane in lanes if lane.relay.coil(0)]
            for lane in lanes:
                pulsed = lane.pulses() - before_pulses[lane.id]
                opened = rows[lane.id] - before_rows[lane.id]
                # Row first, pulse second: a kill can fall between the two, never before.
                assert pulsed <= opened <= pulsed + (0 if last else 2), (run, lane.id)
            runs.append(
                {
                    "run": run,
                    "pulses": sum(lane.pulses() for lane in lanes) - sum(before_pulses.values()),
                    "rows_opening": sum(rows.values()) - sum(before_rows.values()),
                    "left_on": left_on,
                    "seconds": round(time.monotonic() - started, 1),
                }
            )
    with services.database.session() as session:
        logged = session.execute(
            select(Passage.seq, Passage.uuid, Passage.outcome, Passage.reasons).order_by(
                Passage.seq
            )
        ).all()
    seqs = [row.seq for row in logged]
    print(f"seed {SEED}: {len(logged)} passages, runs {runs}")
    assert len(logged) >= TOTAL
    assert seqs == list(range(1, len(logged) + 1))  # no hole, none twice
    assert len({row.uuid for row in logged}) == len(logged)
    let_in = Counter(
        reason["params"]["pass_id"]
        for row in logged
        if row.outcome == "allow"
        for reason in row.reasons
        if reason["code"] == "qr_pass" and reason["params"].get("kind") == "invite"
    )
    assert let_in
    assert max(let_in.values()) == 1  # no invite opened the barrier twice across the kills
    verified = gate(env, "log", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"intact: {len(logged)} rows" in verified.stdout
    assert "matches anchor" in verified.stdout
    fed: list[int] = []
    cursor = "v1.0"
    while True:
        page = read_page(
            cursor,
            limit=97,
            reader=services.feed,
            compound=services.compound,
            pseudonym=services.pseudonym,
        )
        fed += [item["seq"] for item in page.items]
        if not page.items:
            break
        cursor = page.next_cursor
    assert fed == seqs
