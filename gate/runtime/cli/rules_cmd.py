"""``gate rules``, ``gate exemption`` and ``gate visitor``: what shapes a decision."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer

from gate.domain.documents import DocumentType
from gate.domain.errors import ConfigError
from gate.domain.model import ParamValue
from gate.domain.policy import RuleConfig, RuleMode
from gate.domain.status import LOCAL_TZ, end_of_local_day
from gate.runtime.cli.context import cli_context, operator, origin
from registry.controls import (
    add_exemption,
    find_household,
    list_rules,
    person_by_document,
    register_visitor,
    set_rule,
)

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
        with services.database.session() as session:
            rules = [_rule_json(rule, now) for rule in list_rules(session)]
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


def _moment(text: str) -> datetime:
    """``now``, an ISO date (local midnight) or an ISO datetime (local if naive)."""
    if text == "now":
        return datetime.now(UTC)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), LOCAL_TZ)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"not a date or time: {text!r}", key="--from/--to") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def _param(text: str) -> tuple[str, ParamValue]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"expected key=value, got {text!r}", key="--param")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        raise ConfigError(
            f"a parameter is a number, text, true/false or null: {text!r}", key="--param"
        )
    return key, value


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
    services = cli_context(ctx).services()
    try:
        with services.database.session() as session:
            rule = set_rule(
                session,
                rule_id=rule_id,
                actor=operator(),
                origin=origin(),
                now=datetime.now(UTC),
                mode=mode,
                params=dict(_param(item) for item in param or []),
                effective_from=_moment(effective_from) if effective_from else None,
                effective_to=_moment(effective_to) if effective_to else None,
                clear_effective_to=clear_to,
            )
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
    context = cli_context(ctx)
    services = context.services()
    now = datetime.now(UTC)
    try:
        with services.database.session() as session:
            person = person_by_document(
                session, cipher=services.cipher, doc_type=doc_type, number=id_number
            )
            add_exemption(
                session,
                person=person,
                rule_ids=[part.strip() for part in rules.split(",") if part.strip()],
                reason=reason,
                expires_at=end_of_local_day(date.fromisoformat(until)) if until else None,
                actor=operator(),
                origin=origin(),
                now=now,
            )
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
    hours: Annotated[float, typer.Option(min=0.25, max=24 * 30)] = 4.0,
    doc_type: Annotated[DocumentType, typer.Option("--doc-type")] = DocumentType.RESIDENT_ID,
) -> None:
    """Register a visit starting now for a number of hours (audited)."""
    parts = host.split("-")
    if len(parts) != 3:
        raise ConfigError("give the host as building-unit-room, e.g. 3-2-502", key="--host")
    services = cli_context(ctx).services()
    now = datetime.now(UTC)
    try:
        with services.database.session() as session:
            household = find_household(session, building=parts[0], unit=parts[1], room=parts[2])
            visitor = register_visitor(
                session,
                cipher=services.cipher,
                name=name,
                doc_type=doc_type,
                number=id_number,
                host=household,
                reason=reason,
                starts_at=now,
                ends_at=now + timedelta(hours=hours),
                actor=operator(),
                origin=origin(),
                now=now,
            )
            ref = visitor.ref
    finally:
        services.close()
    until = (now + timedelta(hours=hours)).astimezone(LOCAL_TZ)
    typer.echo(f"visit {ref} registered until {until:%Y-%m-%d %H:%M}")
