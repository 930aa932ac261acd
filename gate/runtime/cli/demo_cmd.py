"""``gate demo``: a reproducible demo compound in a fresh database."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from gate.app.actor import Actor
from gate.app.qr_passes import IssuePass, issue_pass
from gate.domain.passes import PassKind
from gate.domain.people import PersonKind
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services
from gate.runtime.cli.context import cli_context, operator, origin
from registry.demo import DemoCompound, generate_demo
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
        passes_path = settings.data_dir / "demo" / "passes.json"
        shown = write_demo_passes(services, demo, passes_path)
    finally:
        services.close()
    typer.echo(
        f"seeded {settings.compound.name} (seed {seed}): {stats.buildings} buildings, "
        f"{stats.units} units, {stats.households} households, {stats.persons} persons, "
        f"{stats.quarantined_persons} in home quarantine in {stats.quarantined_households} "
        f"households on {day.isoformat()}; {len(demo.cards)} demo cards in {cards_path}; "
        f"{shown} demo QR passes in {passes_path}"
    )


def write_demo_passes(services: Services, demo: DemoCompound, path: Path) -> int:
    """Issue the passes the demo's emulated QR scanner shows, and write them for it.

    Two residents' rotating phone codes, one of them also as a screenshot three minutes
    old (refused: stale), a printed pass, and a one-time invite (let in once, then refused
    as a replay each time it comes round again). The file holds what a phone holds.
    """
    residents = [
        person
        for person in demo.persons
        if person.kind is PersonKind.RESIDENT and person.status is None and person.building
    ][:3]
    actor = Actor(name=operator(), origin=origin(), at=datetime.now(UTC))

    def issue(command: IssuePass) -> dict[str, object]:
        issued = issue_pass(
            command, actor=actor, units=services.units, signer=services.pass_signer
        ).signed
        return {
            "label": f"{command.kind.value} {issued.claims.pass_id}",
            "signed": base64.b64encode(issued.signed).decode(),
            "secret": base64.b64encode(issued.secret).decode() if issued.secret else None,
        }

    first, second, third = (person.doc_number for person in residents)
    shown = [
        issue(IssuePass(PassKind.RESIDENT, first, note="demo")),
        issue(IssuePass(PassKind.RESIDENT, second, note="demo")),
        issue(
            IssuePass(
                PassKind.INVITE,
                first,
                valid_for=timedelta(days=7),
                visitor_name="刘女士",
                note="demo invite",
            )
        ),
        issue(IssuePass(PassKind.RESIDENT, third, rotating=False, note="demo printed")),
    ]
    shown.append({**shown[0], "label": "screenshot", "shown_late_s": 180})
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    # Step secrets: readable by this user only, like the data key.
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        json.dump(shown, out, ensure_ascii=False, indent=1)
    temporary.replace(path)
    return len(shown)
