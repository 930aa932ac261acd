"""The gate's rules as configured: kinds, modes, what each kind reads, and the defaults.

A rule has an id, a kind, parameters and effective dates; ``RULE_PARAMETERS`` says what
each kind reads and what a value must look like, so a bad value is refused where rules
change, never inside ``decide()`` (``gate.domain.policy``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from enum import StrEnum

from gate.domain.model import ParamValue
from gate.domain.people import FEVER_FROM


class RuleMode(StrEnum):
    """Hard rules enforce; soft rules let through and flag."""

    HARD = "hard"
    SOFT = "soft"


class RuleKind(StrEnum):
    """What a rule looks at."""

    QUARANTINE = "quarantine"
    HEALTH_MONITORING = "health_monitoring"
    KEY_PERSON = "key_person"
    OUTSIDER = "outsider"
    VISITOR_WINDOW = "visitor_window"
    HOUSEHOLD_QUOTA = "household_quota"
    CURFEW = "curfew"
    FEVER = "fever"
    ANTI_PASSBACK = "anti_passback"
    CARD_EXPIRED = "card_expired"


@dataclass(frozen=True)
class RuleConfig:
    """A configured rule, in force from ``effective_from`` (None: never) to ``effective_to``."""

    rule_id: str
    kind: RuleKind
    mode: RuleMode = RuleMode.HARD
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    effective_from: datetime | None = None
    effective_to: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        """True if the rule applies at ``at``."""
        if self.effective_from is None or at < self.effective_from:
            return False
        return self.effective_to is None or at < self.effective_to


def _in_range(low: float | None = None, high: float | None = None) -> Callable[[ParamValue], bool]:
    def check(value: ParamValue) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return (low is None or value >= low) and (high is None or value <= high)

    return check


def _clock_text(value: ParamValue) -> bool:
    if not isinstance(value, str) or len(value) != 5:
        return False
    try:
        time.fromisoformat(value)
    except ValueError:
        return False
    return True


# What each kind of rule reads from its parameters, and what a value must look like;
# anything else would only break decide() at the gate. ``set_rule`` refuses the rest.
RULE_PARAMETERS: dict[RuleKind, dict[str, Callable[[ParamValue], bool]]] = {
    RuleKind.HOUSEHOLD_QUOTA: {
        "persons": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "period_hours": _in_range(0.5, 24 * 30),
        "max_outside_hours": lambda v: v is None or _in_range(0.25, 24 * 30)(v),
    },
    RuleKind.CURFEW: {
        "direction": lambda v: v in (None, "in", "out"),
        "start": _clock_text,
        "end": _clock_text,
    },
    RuleKind.FEVER: {"threshold": _in_range(30.0, 45.0)},
}


def invalid_params(kind: RuleKind, params: Mapping[str, ParamValue]) -> list[str]:
    """The parameter names that ``kind`` does not read or whose value it cannot use."""
    known = RULE_PARAMETERS.get(kind, {})
    return [name for name, value in params.items() if name not in known or not known[name](value)]


ALWAYS = datetime(2020, 1, 1, tzinfo=UTC)

# The rule set a new compound starts with, as migration 0002 seeds it (a test holds the
# two together). Epidemic-time rules (quota, curfew) exist but are not in force until an
# administrator gives them a start date.
DEFAULT_RULES: tuple[RuleConfig, ...] = (
    RuleConfig("quarantine", RuleKind.QUARANTINE, RuleMode.HARD, effective_from=ALWAYS),
    RuleConfig(
        "health-monitoring", RuleKind.HEALTH_MONITORING, RuleMode.SOFT, effective_from=ALWAYS
    ),
    RuleConfig("key-person", RuleKind.KEY_PERSON, RuleMode.HARD, effective_from=ALWAYS),
    RuleConfig("outsider", RuleKind.OUTSIDER, RuleMode.HARD, effective_from=ALWAYS),
    RuleConfig("visitor-window", RuleKind.VISITOR_WINDOW, RuleMode.HARD, effective_from=ALWAYS),
    RuleConfig(
        "household-quota",
        RuleKind.HOUSEHOLD_QUOTA,
        RuleMode.HARD,
        {"persons": 1, "period_hours": 48, "max_outside_hours": None},
    ),
    RuleConfig(
        "curfew-out",
        RuleKind.CURFEW,
        RuleMode.HARD,
        {"direction": "out", "start": "23:00", "end": "05:00"},
    ),
    RuleConfig("fever", RuleKind.FEVER, RuleMode.HARD, {"threshold": FEVER_FROM}, ALWAYS),
    RuleConfig("anti-passback", RuleKind.ANTI_PASSBACK, RuleMode.SOFT, effective_from=ALWAYS),
    RuleConfig("card-expired", RuleKind.CARD_EXPIRED, RuleMode.HARD, effective_from=ALWAYS),
)
