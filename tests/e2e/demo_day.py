"""The demo compound with yesterday played through the real pipeline (browser tests' data)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from devices.memory_barrier import RecordingBarrier
from gate.app.actor import Actor
from gate.app.simulation import DayOptions, SimLane, plan_day
from gate.app.simulation_run import DayTally, SimulatedClock, simulate_day
from gate.domain.status import LOCAL_TZ, start_of_local_day
from gate.runtime.bootstrap import Gate, Services, build_gate
from registry.demo import generate_demo
from registry.demo_seed import seed_demo
from registry.simulation_cards import registered_cards


def yesterday() -> date:
    """The local day before today (a whole day the report may show)."""
    return datetime.now(LOCAL_TZ).date() - timedelta(days=1)


def demo_day(services: Services, *, scale: float = 0.3) -> date:
    """Seed the demo compound and play yesterday at ``scale``; return that day."""
    day = yesterday()
    seed_for(services, day)
    clock = SimulatedClock(start_of_local_day(day))
    play_day(services, build_gate(services, barrier=RecordingBarrier(), clock=clock), clock, day,
             scale=scale)  # fmt: skip
    return day


def seed_for(services: Services, day: date) -> None:
    """The demo compound as it stood the day before ``day``."""
    with services.database.session() as session:
        seed_demo(
            session,
            cipher=services.cipher,
            demo=generate_demo(seed=2020, today=day),
            compound_code="ruyi",
            compound_name="如意小区",
            now=start_of_local_day(day) - timedelta(days=1),
            actor="test",
            origin="test",
        )


def play_day(
    services: Services, gate: Gate, clock: SimulatedClock, day: date, *, scale: float
) -> DayTally:
    """Play ``day`` through ``gate`` (built over ``clock``) at lane ``main``."""
    cards = registered_cards(services.database, services.cipher)
    options = DayOptions(day, 7, (SimLane("main", thermometer=True),), scale=scale)
    plan = plan_day(gate.snapshots.current(), cards, options)
    return simulate_day(
        plan,
        actor=Actor("test", "test", datetime.now(UTC)),
        units=services.units,
        signer=services.pass_signer,
        pipeline=gate.pipeline,
        snapshots=gate.snapshots,
        clock=clock,
    )
