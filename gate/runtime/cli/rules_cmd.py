"""``gate rules``, ``gate exemption`` and ``gate visitor``: what shapes a decision."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from gate.app.exemptions import AddExemption, add_exemption
from gate.app.forms import parse_day, parse_local_time
from gate.app.rules import ChangeRule, change_rule, list_rules
from gate.app.visit_requests import RETENTION_DAYS, purge_old_requests
from gate.app.visitors import RegisterVisitor, register_visitor
from gate.domain.documents import DocumentType
from gate.domain.rules import RuleConfig, RuleMode
from gate.domain.status import LOCAL_TZ
from gate.runtime.cli.context import actor, cli_context

rules_app = typer.Typer(help="The gate's rules.", no_args_is_help=True)
exemption_app = typer.Typer(help="Exemptions from named rules.", no_args_is_help=True)
visitor_app = typer.Typer(help="Registered visits.", no_args_is_help=True)


def _rule_json(rule: RuleConfig, now: datetime) -> dict[str, object]:
    return {
        "rule_id": rule.rule_id,
        "kind": rule.kind.value,
        "mode": rule.mode.value,
        "params": dict(rule.params),
        "effective_from": rule.effective_from.isoformat() if rule.effective_from else None,
        "effective_to": rule.effective_to.isoformat() if rule.effective_to else None,
        "in_force": rule.in_force(now),
    }


@rules_app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every rule with its mode, parameters and whether it is in force now."""
    services = cli_context(ctx).services()
    now = datetime.now(UTC)
    try:
        rules = [_rule_json(rule, now) for rule in list_rules(actor=actor(), units=services.units)]
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps(rules, ensure_ascii=False))
        return
    for rule in rules:
        state = "IN FORCE" if rule["in_force"] else "off"
        typer.echo(
            f"{rule['rule_id']:<18} {rule['kind']:<18} {rule['mode']:<4} {state:<8} "
            f"from {rule['effective_from'] or '-'} to {rule['effective_to'] or '-'} "
            f"{json.dumps(rule['params'], ensure_ascii=False) if rule['params'] else ''}"
        )


def _moment(text: str, option: str) -> datetime | None:
    """``now``, an ISO date (local midnight) or an ISO datetime (local if naive)."""
    return parse_local_time(text, field_name=option, now=datetime.now(UTC))


@rules_app.command("set")
def set_command(
    ctx: typer.Context,
    rule_id: str,
    mode: Annotated[RuleMode | None, typer.Option(help="hard or soft.")] = None,
    effective_from: Annotated[
        str | None, typer.Option("--from", help="now, YYYY-MM-DD or ISO time.")
    ] = None,
    effective_to: Annotated[str | None, typer.Option("--to", help="End (exclusive).")] = None,
    clear_to: Annotated[bool, typer.Option("--clear-to", help="Remove the end.")] = False,
    param: Annotated[list[str] | None, typer.Option(help="key=value, repeatable.")] = None,
) -> None:
    """Change a rule's mode, parameters or effective dates (audited)."""
    command = ChangeRule(
        rule_id=rule_id,
        mode=mode,
        params=list(param or []),
        effective_from=_moment(effective_from or "", "--from"),
        effective_to=_moment(effective_to or "", "--to"),
        clear_effective_to=clear_to,
    )
    services = cli_context(ctx).services()
    try:
        rule = change_rule(command, actor=actor(), units=services.units)
    finally:
        services.close()
    typer.echo(json.dumps(_rule_json(rule, datetime.now(UTC)), ensure_ascii=False))


@exemption_app.command("add")
def exemption_add(
    ctx: typer.Context,
    id_number: Annotated[str, typer.Option("--id-number")],
    rules: Annotated[str, typer.Option(help="Rule ids or kinds, comma-separated.")],
    reason: Annotated[str, typer.Option(help="e.g. 复工证明, 就医.")],
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD), inclusive.")] = None,
    doc_type: Annotated[DocumentType, typer.Option("--doc-type")] = DocumentType.RESIDENT_ID,
) -> None:
    """Lift named rules for one person until a date (audited)."""
    command = AddExemption(
        rule_ids=tuple(part.strip() for part in rules.split(",") if part.strip()),
        reason=reason,
        last_day=parse_day(until or "", field_name="--until"),
        doc_type=doc_type,
        doc_number=id_number,
    )
    services = cli_context(ctx).services()
    try:
        add_exemption(command, actor=actor(), units=services.units)
    finally:
        services.close()
    typer.echo(f"exemption from {rules} recorded until {until or 'further notice'}")


@visitor_app.command("add")
def visitor_add(
    ctx: typer.Context,
    id_number: Annotated[str, typer.Option("--id-number")],
    name: Annotated[str, typer.Option()],
    host: Annotated[str, typer.Option(help="Host household as building-unit-room, e.g. 3-2-502.")],
    reason: Annotated[str, typer.Option()],
    hours: Annotated[float, typer.Option(help="Length of the visit, 0.25 to 168.")] = 4.0,
    doc_type: Annotated[DocumentType, typer.Option("--doc-type")] = DocumentType.RESIDENT_ID,
) -> None:
    """Register a visit starting now for a number of hours (audited)."""
    command = RegisterVisitor(
        name=name, doc_type=doc_type, number=id_number, host=host, reason=reason, hours=hours
    )
    services = cli_context(ctx).services()
    try:
        registered = register_visitor(command, actor=actor(), units=services.units)
    finally:
        services.close()
    visitor = registered.visitor
    until = visitor.ends_at.astimezone(LOCAL_TZ)
    typer.echo(f"visit {visitor.ref} registered until {until:%Y-%m-%d %H:%M}")


@visitor_app.command("purge")
def visitor_purge(ctx: typer.Context) -> None:
    """Delete phone-registered visits past their retention (the running service does it daily)."""
    services = cli_context(ctx).services()
    try:
        purged = purge_old_requests(actor=actor(), units=services.units)
    finally:
        services.close()
    typer.echo(f"deleted {purged} phone-registered visits older than {RETENTION_DAYS} days")
