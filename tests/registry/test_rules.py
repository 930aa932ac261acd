"""Rule changes are checked before they are stored: a bad parameter never reaches decide()."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gate.app.actor import Actor
from gate.app.rules import ChangeRule, change_rule, list_rules
from gate.domain.errors import ActionRefused
from gate.runtime.bootstrap import Services

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
OFFICE = Actor("office", "test", NOW)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ("start=25:00", "param_value"),
        ("direction=sideways", "param_value"),
        ("threshold=37.3", "param_unknown"),
        ("persons=one", "param_unknown"),
        ("start", "param_format"),
    ],
)
def test_parameters_a_rule_cannot_use_are_refused_and_nothing_changes(
    services: Services, params: str, code: str
) -> None:
    before = list_rules(actor=OFFICE, units=services.units)
    with pytest.raises(ActionRefused) as refused:
        change_rule(ChangeRule("curfew-out", params=params), actor=OFFICE, units=services.units)
    assert refused.value.code == code
    assert list_rules(actor=OFFICE, units=services.units) == before


def test_a_valid_change_is_stored(services: Services) -> None:
    changed = change_rule(
        ChangeRule("curfew-out", params=["start=22:30"], effective_from=NOW),
        actor=OFFICE,
        units=services.units,
    )
    assert changed.params["start"] == "22:30"
    assert changed.in_force(NOW)
    assert changed in list_rules(actor=OFFICE, units=services.units)
