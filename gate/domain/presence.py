"""Who is inside, who is out, and which quarantined persons are outside right now."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from gate.domain.model import Presence
from gate.domain.people import QUARANTINE_STATUSES
from gate.domain.places import natural_key
from gate.domain.snapshot import PersonFacts, RegistrySnapshot
from gate.domain.status import current_status


@dataclass(frozen=True)
class Occupancy:
    """Presence counts of registered persons; the list that should always be empty."""

    inside: int
    outside: int
    unknown: int
    inside_by_building: dict[str, int]
    quarantined_outside: tuple[PersonFacts, ...]


def occupancy(snapshot: RegistrySnapshot, *, now: datetime) -> Occupancy:
    """Presence of every registered person at ``now``, from the snapshot."""
    counts: Counter[Presence] = Counter()
    by_building: Counter[str] = Counter()
    quarantined_outside = []
    now_present = snapshot.presence_now()  # one consistent moment, while lanes keep moving
    for person in snapshot.persons.values():
        presence = now_present.get(person.ref, Presence.UNKNOWN)
        counts[presence] += 1
        if presence is Presence.INSIDE and person.building:
            by_building[person.building] += 1
        if (
            presence is Presence.OUTSIDE
            and current_status(person.statuses, now) in QUARANTINE_STATUSES
        ):
            quarantined_outside.append(person)
    return Occupancy(
        inside=counts[Presence.INSIDE],
        outside=counts[Presence.OUTSIDE],
        unknown=counts[Presence.UNKNOWN],
        inside_by_building=dict(sorted(by_building.items(), key=lambda item: natural_key(item[0]))),
        quarantined_outside=tuple(sorted(quarantined_outside, key=lambda p: p.home or "")),
    )
