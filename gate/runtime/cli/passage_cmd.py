"""``gate passage``, ``gate log`` and ``gate presence``: the passage pipeline from a shell."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from gate.app.passages import OverridePassage, override_passage
from gate.app.pipeline import PassageResult
from gate.domain.anchors import AnchorInvalid
from gate.domain.documents import DocumentType
from gate.domain.model import (
    Credential,
    CredentialKind,
    Direction,
    DocumentRead,
    Outcome,
    PassageRecord,
)
from gate.domain.people import mask_name
from gate.domain.ports import BarrierAction
from gate.domain.presence import occupancy
from gate.domain.snapshot import PersonFacts
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import build_gate
from gate.runtime.cli.context import actor, cli_context
from registry.chain_check import verify_chain

log_app = typer.Typer(help="The passage log.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def record_json(record: PassageRecord, person: PersonFacts | None = None) -> dict[str, Any]:
    """A passage as operators and scripts see it (never a document number)."""
    entry = record.entry
    decision = entry.decision
    return {
        "seq": record.seq,
        "uuid": entry.uuid,
        "at": entry.at.isoformat(),
        "local_time": entry.at.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "lane": entry.lane,
        "direction": entry.direction.value,
        "credential_kind": entry.credential_kind.value,
        "identity_kind": entry.identity_kind.value,
        "person_ref": entry.person_ref,
        "household_ref": entry.household_ref,
        "person": {"name": mask_name(person.name), "home": person.home} if person else None,
        "outcome": decision.outcome.value,
        "alert": decision.alert.value,
        "opens_barrier": decision.opens_barrier,
        "reasons": decision.reasons_json(),
        "rule_ids": list(decision.rule_ids),
        "decided_by": entry.decided_by,
        "overrides_seq": entry.overrides_seq,
        "temperature": entry.temperature,
    }


def _print_result(result: PassageResult, *, as_json: bool) -> None:
    if result.record is None:
        payload: dict[str, Any] = {
            "seq": None,
            "outcome": result.decision.outcome.value,
            "reasons": result.decision.reasons_json(),
        }
    else:
        payload = record_json(result.record, result.event.person)
    payload["barrier_opened"] = result.barrier_opened
    payload["barrier"] = result.barrier.value if result.barrier else None
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    reasons = ", ".join(reason["code"] for reason in payload["reasons"])
    who = payload.get("person") or {}
    typer.echo(
        f"#{payload['seq']} {payload['outcome'].upper()} ({reasons})"
        f"{' ' + who['name'] + ' ' + (who['home'] or '') if who else ''}"
        f" {BARRIER_TEXT[result.barrier] if result.barrier else 'barrier shut'}"
    )


BARRIER_TEXT = {
    BarrierAction.OPENED: "barrier opened",
    BarrierAction.FREE_EXIT: "free exit: nothing to open",
    BarrierAction.NO_BARRIER: "no barrier configured for this lane: nothing opened",
    BarrierAction.FAILED: "barrier did not answer: let them through by hand",
}


def passage(
    ctx: typer.Context,
    id_number: Annotated[str, typer.Option("--id-number", help="Document number as read.")],
    direction: Annotated[Direction, typer.Option(help="in or out.")],
    lane: Annotated[str, typer.Option(help="Lane id.")] = "main",
    doc_type: Annotated[DocumentType, typer.Option("--doc-type")] = DocumentType.RESIDENT_ID,
    temperature: Annotated[float | None, typer.Option(help="Measured temperature, °C.")] = None,
    card_valid_to: Annotated[
        str | None, typer.Option(help="The card's validity end (YYYY-MM-DD).")
    ] = None,
    manual: Annotated[bool, typer.Option(help="Typed by a guard, not read from a card.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run one credential through the whole pipeline and print the decision."""
    valid_to = date.fromisoformat(card_valid_to) if card_valid_to else None
    credential = Credential(
        kind=CredentialKind.MANUAL if manual else CredentialKind.ID_CARD,
        document=DocumentRead(doc_type, id_number, valid_to=valid_to),
    )
    services = cli_context(ctx).services()
    try:
        gate = build_gate(services)
        result = gate.pipeline.process(
            credential, lane=lane, direction=direction, temperature=temperature
        )
    finally:
        services.close()
    _print_result(result, as_json=as_json)


def presence(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Who is inside or out, per building, and quarantined persons outside now."""
    services = cli_context(ctx).services()
    try:
        gate = build_gate(services)
        counts = occupancy(gate.snapshots.current(), now=datetime.now(UTC))
    finally:
        services.close()
    quarantined = [
        {"person_ref": person.ref, "name": mask_name(person.name), "home": person.home}
        for person in counts.quarantined_outside
    ]
    payload = {
        "inside": counts.inside,
        "outside": counts.outside,
        "unknown": counts.unknown,
        "inside_by_building": counts.inside_by_building,
        "quarantined_outside": quarantined,
    }
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    typer.echo(f"inside {counts.inside}, outside {counts.outside}, unknown {counts.unknown}")
    typer.echo(f"quarantined persons outside now: {len(counts.quarantined_outside)}")
    for person in quarantined:
        typer.echo(f"  {person['name']} {person['home']}")


@log_app.command("tail")
def tail(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("-n", min=1, max=10_000)] = 20,
    as_json: JsonOption = False,
) -> None:
    """The last passages, oldest first."""
    services = cli_context(ctx).services()
    try:
        records = services.passages.tail(count)
    finally:
        services.close()
    for record in records:
        if as_json:
            typer.echo(json.dumps(record_json(record), ensure_ascii=False))
        else:
            entry = record.entry
            typer.echo(
                f"#{record.seq} {entry.at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M:%S} {entry.lane} "
                f"{entry.direction.value:>3} {entry.identity_kind.value:<10} "
                f"{entry.decision.outcome.value.upper():<6} "
                f"{','.join(entry.decision.reason_codes)} [{entry.decided_by}]"
            )


@log_app.command("verify")
def verify(
    ctx: typer.Context,
    anchor: Annotated[
        list[Path] | None,
        typer.Option(
            "--anchor",
            help="Also check against an anchor copied back from the hub or the district "
            "(a file holding its JSON); repeatable.",
        ),
    ] = None,
) -> None:
    """Check the keyed chain of the whole log and the anchors; exit 1 naming what is wrong."""
    services = cli_context(ctx).services()
    try:
        found = services.anchors.log.read()
        anchors = list(found.anchors)
        problems = list(found.problems)
        for path in anchor or []:
            try:
                anchors.append(services.anchors.log.check(path.read_bytes()))
            except (OSError, AnchorInvalid) as exc:
                problems.append(f"{path}: {exc}")
        report = verify_chain(
            services.database, chain_key=services.chain_key.material, anchors=anchors
        )
    finally:
        services.close()
    if found.torn:
        typer.echo("note: the anchor file's last line is cut short (a write interrupted)")
    for problem in problems:
        typer.secho(f"anchors BROKEN: {problem}", err=True, fg=typer.colors.RED)
    if not report.intact:
        where = f"row {report.first_broken_seq}" if report.first_broken_seq else "the log head"
        typer.secho(
            f"passage log BROKEN at {where}: {report.problem}", err=True, fg=typer.colors.RED
        )
    if problems or not report.intact:
        raise typer.Exit(1)
    old = (
        f"; rows 1-{report.keyed_from - 1} under the old unkeyed chain"
        if report.keyed_from > 1
        else ""
    )
    typer.echo(
        f"passage log intact: {report.checked} rows (keyed from row {report.keyed_from}{old})"
    )
    if report.checkpoint is not None:
        on = datetime.fromisoformat(report.checkpoint.at).astimezone(LOCAL_TZ).date()
        typer.echo(
            f"rows 1-{report.purged_to} purged under retention on {on.isoformat()}, "
            f"checked from checkpoint (anchor {report.checkpoint.n})"
        )
    if report.anchor is None:
        typer.echo("no anchor to check against: rows cut from the end would not show")
    else:
        typer.echo(
            f"matches anchor {report.anchor.n}: seq {report.anchor.seq} at {report.anchor.at}"
        )


@log_app.command("anchor")
def anchor_now(ctx: typer.Context) -> None:
    """Sign the log's head into the anchor file now (the service does so on its own)."""
    services = cli_context(ctx).services()
    try:
        written = services.anchors.anchor_now(datetime.now(UTC))
        latest = written or services.anchors.log.latest()
    finally:
        services.close()
    if latest is None:
        typer.echo("no anchor written")
        return
    said = "anchor" if written else "already anchored:"
    typer.echo(f"{said} {latest.n}: seq {latest.seq} at {latest.at}")


@log_app.command("override")
def override(
    ctx: typer.Context,
    seq: Annotated[int, typer.Argument(help="The passage to decide.")],
    outcome: Annotated[Outcome, typer.Option(help="allow or deny.")],
    reason: Annotated[str, typer.Option(help="Reason code, e.g. identity_confirmed.")],
    text: Annotated[str, typer.Option(help="What the guard saw; required.")],
    guard: Annotated[str, typer.Option(help="Who decides.")],
    as_json: JsonOption = False,
) -> None:
    """A guard decides a review or deny; logged as its own row linked to the original."""
    services = cli_context(ctx).services()
    try:
        gate = build_gate(services)
        result = override_passage(
            OverridePassage(seq, outcome, reason, text, guard=guard),
            actor=actor(),
            units=services.units,
            pipeline=gate.pipeline,
        )
    finally:
        services.close()
    _print_result(result, as_json=as_json)
