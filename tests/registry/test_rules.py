"""Rule changes are checked before they are stored: a bad parameter never reaches decide()."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gate.domain.errors import RuleParamsInvalid
from registry.controls import list_rules, set_rule
from registry.database import Database

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "params",
    [{"start": "25:00"}, {"direction": "sideways"}, {"threshold": 37.3}, {"persons": "one"}],
)
def test_parameters_a_rule_cannot_use_are_refused_and_nothing_changes(
    database: Database, params: dict[str, object]
) -> None:
    with database.session() as session:
        before = list_rules(session)
    with (
        pytest.raises(RuleParamsInvalid, match="cannot use parameter"),
        database.session() as session,
    ):
        set_rule(
            session,
            rule_id="curfew-out",
            params=params,  # type: ignore[arg-type]
            actor="office",
            origin="test",
            now=NOW,
        )
    with database.session() as session:
        assert list_rules(session) == before


def test_a_valid_change_is_stored(database: Database) -> None:
    with database.session() as session:
        changed = set_rule(
            session,
            rule_id="curfew-out",
            params={"start": "22:30"},
            effective_from=NOW,
            actor="office",
            origin="test",
            now=NOW,
        )
    assert changed.params["start"] == "22:30"
    assert changed.in_force(NOW)
