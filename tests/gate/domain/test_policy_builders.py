"""Small builders for the ``decide()`` tests (no tests here; shared by ``test_policy*.py``).

Times are local (Asia/Shanghai) unless a test says otherwise; every rule built here is in
force from 2020-01-01 with no end unless the test gives dates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gate.domain.documents import DocumentType
from gate.domain.model import (
    Decision,
    Direction,
    DocumentRead,
    Exemption,
    Identity,
    IdentityKind,
    Outing,
    ParamValue,
    PassageContext,
    Presence,
    Reason,
    VisitWindow,
)
from gate.domain.people import HealthStatus, PersonKind
from gate.domain.rules import RuleConfig, RuleKind, RuleMode

SHANGHAI = ZoneInfo("Asia/Shanghai")
SINCE = datetime(2020, 1, 1, tzinfo=SHANGHAI)
NOW = datetime(2020, 2, 10, 10, 0, tzinfo=SHANGHAI)  # a Monday morning, no curfew
TICK = timedelta(microseconds=1)
HOUR = timedelta(hours=1)


def at(hour: int, minute: int = 0, second: int = 0, *, day: int = 10, month: int = 2) -> datetime:
    """A local time in 2020."""
    return datetime(2020, month, day, hour, minute, second, tzinfo=SHANGHAI)


VISIT_FROM = at(9)
VISIT_UNTIL = at(18)


def rule(
    kind: RuleKind,
    *,
    mode: RuleMode = RuleMode.HARD,
    rule_id: str | None = None,
    effective_from: datetime | None = SINCE,
    effective_to: datetime | None = None,
    **params: ParamValue,
) -> RuleConfig:
    """A rule in force since ``SINCE``; its id is its kind unless given."""
    return RuleConfig(
        rule_id=rule_id or kind.value,
        kind=kind,
        mode=mode,
        params=params,
        effective_from=effective_from,
        effective_to=effective_to,
    )


def soft(kind: RuleKind, **params: ParamValue) -> RuleConfig:
    """A soft rule in force since ``SINCE``."""
    return RuleConfig(kind.value, kind, RuleMode.SOFT, params, SINCE)


def resident(
    status: HealthStatus = HealthStatus.NORMAL,
    *,
    person_ref: str | None = "p-1",
    household_ref: str | None = "h-1",
    person_kind: PersonKind | None = PersonKind.RESIDENT,
    exemptions: tuple[Exemption, ...] = (),
    document: DocumentRead | None = None,
    status_until: datetime | None = None,
) -> Identity:
    """A registered resident of household ``h-1``."""
    return Identity(
        kind=IdentityKind.REGISTERED,
        person_ref=person_ref,
        household_ref=household_ref,
        person_kind=person_kind,
        status=status,
        status_until=status_until,
        exemptions=exemptions,
        document=document,
    )


def visitor(
    starts_at: datetime | None = VISIT_FROM,
    ends_at: datetime | None = VISIT_UNTIL,
    *,
    exemptions: tuple[Exemption, ...] = (),
) -> Identity:
    """A registered visitor, by default with a window of 09:00-18:00 on 10 February."""
    window = (
        VisitWindow(starts_at, ends_at, "h-7")
        if starts_at is not None and ends_at is not None
        else None
    )
    return Identity(
        kind=IdentityKind.VISITOR, person_ref="v-1", visit=window, exemptions=exemptions
    )


def outsider(*, with_card: bool = True) -> Identity:
    """Someone not in the registry (a card read or a face nobody knows)."""
    return Identity(kind=IdentityKind.OUTSIDER, document=card() if with_card else None)


def card(valid_to: date | None = date(2030, 1, 1)) -> DocumentRead:
    """A resident ID card read at the gate."""
    return DocumentRead(
        DocumentType.RESIDENT_ID,
        "110101199003074514",
        name="张三",
        valid_to=valid_to,
        valid_to_known=valid_to is not None,
    )


def exemption(
    *names: str, reason: str = "hospital", expires_at: datetime | None = None
) -> Exemption:
    """An exemption lifting the rules named by id or kind."""
    return Exemption(rule_ids=frozenset(names), reason=reason, expires_at=expires_at)


def passage(
    direction: Direction = Direction.OUT,
    *,
    now: datetime = NOW,
    temperature: float | None = None,
    presence: Presence = Presence.UNKNOWN,
    outings: tuple[Outing, ...] = (),
) -> PassageContext:
    """One passage through the main lane."""
    return PassageContext(
        lane="main",
        direction=direction,
        now=now,
        temperature=temperature,
        presence=presence,
        household_outings=outings,
    )


def outing(left_at: datetime, returned_at: datetime | None = None, person: str = "p-2") -> Outing:
    """An outing of a member of household ``h-1``."""
    return Outing(person_ref=person, left_at=left_at, returned_at=returned_at)


def only_reason(decision: Decision) -> Reason:
    """The decision's single reason."""
    assert len(decision.reasons) == 1, decision.reasons
    return decision.reasons[0]
