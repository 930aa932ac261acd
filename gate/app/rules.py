"""Changing a rule (mode, parameters, dates): the rules page and ``gate rules set``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from gate.app.actor import Actor
from gate.app.forms import parse_params
from gate.app.ports import UnitOfWorkFactory
from gate.domain.errors import ActionRefused
from gate.domain.rules import RuleConfig, RuleMode


@dataclass(frozen=True)
class ChangeRule:
    """What to change; ``None`` keeps the rule's current value."""

    rule_id: str
    mode: RuleMode | None = None
    params: str | list[str] = ""  # key=value items, see gate.app.forms.parse_params
    effective_from: datetime | None = None
    effective_to: datetime | None = None
    clear_effective_to: bool = False


def list_rules(*, actor: Actor, units: UnitOfWorkFactory) -> list[RuleConfig]:
    """Every rule, in the order they are evaluated."""
    with units(actor) as uow:
        return list(uow.rules.all())


def change_rule(command: ChangeRule, *, actor: Actor, units: UnitOfWorkFactory) -> RuleConfig:
    """Check and store the change (``NotFound``, ``ActionRefused``); audited; gates reload."""
    with units(actor) as uow:
        before = uow.rules.get(command.rule_id)
        params = parse_params(before.kind, command.params)
        start = command.effective_from or before.effective_from
        end = None if command.clear_effective_to else command.effective_to or before.effective_to
        if start is not None and end is not None and end <= start:
            raise ActionRefused("date_order")
        after = dataclasses.replace(
            before,
            mode=command.mode or before.mode,
            params={**before.params, **params},
            effective_from=start,
            effective_to=end,
        )
        uow.rules.save(after)
        uow.audit(
            "rule.change",
            command.rule_id,
            {"before": _described(before), "after": _described(after)},
        )
        uow.registry_changed()
        uow.commit()
    return after


def _described(rule: RuleConfig) -> dict[str, object]:
    return {
        "mode": rule.mode.value,
        "params": dict(rule.params),
        "effective_from": rule.effective_from.isoformat() if rule.effective_from else None,
        "effective_to": rule.effective_to.isoformat() if rule.effective_to else None,
    }
