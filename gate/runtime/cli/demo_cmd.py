"""``gate demo``: a reproducible demo compound in a fresh database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from gate.domain.status import LOCAL_TZ
from gate.runtime.cli.context import cli_context, operator, origin
from registry.demo import generate_demo
from registry.demo_seed import seed_demo, write_cards

app = typer.Typer(help="Demo data.", no_args_is_help=True)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("expected a date as YYYY-MM-DD", param_hint="--today") from None


@app.command("seed")
def seed(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same compound.")] = 2020,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            metavar="YYYY-MM-DD",
            help="Day the quarantines are active on (default: today in Asia/Shanghai).",
        ),
    ] = None,
) -> None:
    """Fill an empty registry with the Ruyi demo compound and write <data_dir>/demo/cards.json."""
    context = cli_context(ctx)
    settings = context.settings
    day = _day(today) or datetime.now(LOCAL_TZ).date()
    demo = generate_demo(seed=seed, today=day, compound_name=settings.compound.name)
    cards_path = settings.data_dir / "demo" / "cards.json"
    services = context.services()
    try:
        with services.database.session() as session:
            stats = seed_demo(
                session,
                cipher=services.cipher,
                demo=demo,
                compound_code=settings.compound.code,
                compound_name=settings.compound.name,
                now=datetime.now(UTC),
                actor=operator(),
                origin=origin(),
            )
            # Inside the transaction: if the file cannot be written, nothing is seeded.
            write_cards(cards_path, demo.cards)
    finally:
        services.close()
    typer.echo(
        f"seeded {settings.compound.name} (seed {seed}): {stats.buildings} buildings, "
        f"{stats.units} units, {stats.households} households, {stats.persons} persons, "
        f"{stats.quarantined_persons} in home quarantine in {stats.quarantined_households} "
        f"households on {day.isoformat()}; {len(demo.cards)} demo cards in {cards_path}"
    )
