"""``gate simulate --day``: a realistic day at the compound through the real pipeline."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from devices.memory_barrier import RecordingBarrier
from gate.app.pipeline import PassageResult
from gate.app.simulation import DayOptions, PlannedPassage, SimLane, plan_day
from gate.app.simulation_run import DayTally, SimulatedClock, simulate_day
from gate.domain.errors import RegistryError
from gate.domain.model import Direction
from gate.domain.status import LOCAL_TZ, start_of_local_day
from gate.runtime.bootstrap import build_gate
from gate.runtime.cli.context import actor, cli_context
from gate.runtime.settings import Settings
from registry.simulation_cards import registered_cards, seeded_by_demo


class RuleSet(StrEnum):
    """Which rules the simulated day is decided with."""

    REGISTRY = "registry"  # the registry's rules as they are
    EPIDEMIC = "epidemic"  # plus the household quota and the curfew, for this run only


def _day(text: str | None) -> date:
    if text is None:
        return datetime.now(LOCAL_TZ).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("expected a date as YYYY-MM-DD", param_hint="--date") from None


def simulation_lanes(settings: Settings) -> tuple[SimLane, ...]:
    """The configured lanes; where none has a thermometer, entries are measured by hand.

    A lane facing one way is used that way; with a single lane it is used both ways.
    """
    lanes = settings.gate.lanes
    measured = any(lane.thermometer is not None for lane in lanes)
    one_way = len({lane.direction for lane in lanes}) > 1
    return tuple(
        SimLane(
            id=lane.id,
            direction=Direction(lane.direction) if one_way else None,
            # The guard's hand-held thermometer at the entry, as in 2020, if no lane has one.
            thermometer=lane.thermometer is not None
            if measured
            else lane.direction == Direction.IN.value,
        )
        for lane in lanes
    )


def simulate(
    ctx: typer.Context,
    day: Annotated[bool, typer.Option("--day", help="Simulate one whole day (required).")] = False,
    on: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help="The day (default: today in Asia/Shanghai)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same day.")] = 2020,
    scale: Annotated[
        float,
        typer.Option(
            "--scale", min=0.001, max=1.0, help="Share of the compound taking part (1: all)."
        ),
    ] = 1.0,
    rules: Annotated[
        RuleSet,
        typer.Option(
            "--rules",
            help="registry: the rules as configured; epidemic: also the household quota "
            "and the curfew, for the simulation only (nothing is written).",
        ),
    ] = RuleSet.REGISTRY,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='One line per passage, flushed once its row is durable: {"seq", "uuid", '
            '"outcome"}; then {"summary": ...}.',
        ),
    ] = False,
    any_registry: Annotated[
        bool,
        typer.Option(
            "--any-registry",
            help="Run on a registry that gate demo seed did not fill (a test copy of a "
            "compound's own): its log keeps every simulated passage for good.",
        ),
    ] = False,
) -> None:
    """Play a realistic day at the compound through the real pipeline, as fast as it can.

    The passages are written to the passage log like any other (at simulated times), and
    the log is append-only: so it runs only on a registry ``gate demo seed`` filled,
    unless ``--any-registry`` says the database is a copy made for this.
    """
    if not day:
        raise typer.BadParameter("say what to simulate: --day", param_hint="--day")
    the_day = _day(on)
    services = cli_context(ctx).services()
    # The recording barrier narrates every opening at INFO: thousands of lines.
    logging.getLogger("devices.memory_barrier").setLevel(logging.WARNING)
    try:
        if not any_registry and not seeded_by_demo(services.database):
            raise RegistryError(
                "this registry was not filled by gate demo seed: a simulated day would write "
                "thousands of passages into this compound's log for good. Run it on the demo "
                "or a copy of the database (--any-registry)"
            )
        cards = registered_cards(services.database, services.cipher)
        if not cards:
            raise RegistryError("the registry holds nobody to simulate: run gate demo seed")
        clock = SimulatedClock(start_of_local_day(the_day))
        gate = build_gate(services, barrier=RecordingBarrier(), clock=clock)
        options = DayOptions(
            day=the_day,
            seed=seed,
            lanes=simulation_lanes(services.settings),
            scale=scale,
            epidemic=rules is RuleSet.EPIDEMIC,
        )
        plan = plan_day(gate.snapshots.current(), cards, options)
        started = time.perf_counter()
        tally = simulate_day(
            plan,
            actor=actor(),
            units=services.units,
            signer=services.pass_signer,
            pipeline=gate.pipeline,
            snapshots=gate.snapshots,
            clock=clock,
            on_passage=_print_passage if as_json else None,
        )
        elapsed = time.perf_counter() - started
    finally:
        services.close()
    summary = {
        "date": the_day.isoformat(),
        "seed": seed,
        "scale": scale,
        "rules": rules.value,
        "engine": services.database.dialect,
        "seconds": round(elapsed, 3),
        "passages_per_second": round(tally.passages / elapsed, 1) if elapsed else None,
        "visits_registered": len(plan.visits),
        "passes_issued": len(plan.passes),
        **tally.as_json(),
    }
    if as_json:
        typer.echo(json.dumps({"summary": summary}, ensure_ascii=False))
        return
    _print_summary(summary, tally)


def _print_passage(planned: PlannedPassage, result: PassageResult) -> None:
    record = result.record
    line = {
        "seq": record.seq if record else None,
        "uuid": record.entry.uuid if record else None,
        "outcome": result.decision.outcome.value,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _print_summary(summary: dict[str, Any], tally: DayTally) -> None:
    typer.echo(
        f"simulated {summary['date']} (seed {summary['seed']}, scale {summary['scale']}, "
        f"rules {summary['rules']}): {tally.passages} passages in {summary['seconds']} s "
        f"({summary['passages_per_second']}/s on {summary['engine']}); "
        f"{summary['visits_registered']} visits registered, "
        f"{summary['passes_issued']} QR passes issued; "
        f"{tally.skipped} planned passages not played (the person was held in or out)"
    )
    if tally.unlogged:
        typer.echo(f"refused unlogged (the log refused the write): {tally.unlogged}")
    for title, counts in (
        ("outcome", tally.by_outcome),
        ("reason", tally.by_reason),
        ("lane", tally.by_lane),
        ("credential", tally.by_credential),
        ("story", tally.by_story),
        ("quarantined exits", tally.quarantined_exits),
    ):
        typer.echo(f"{title}:")
        for name, count in counts.most_common():
            typer.echo(f"  {name:<24} {count:>6}")
