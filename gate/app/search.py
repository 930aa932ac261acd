"""The guard looks a person up: status now, exemptions in force, today's passages."""

from __future__ import annotations

from dataclasses import dataclass

from gate.app.actor import Actor
from gate.app.ports import PassageLogReader, UnitOfWorkFactory
from gate.app.views import ExemptionLine, PersonRef
from gate.domain.model import PassageRecord
from gate.domain.people import HealthStatus
from gate.domain.status import local_date, start_of_local_day

MAX_QUERY = 40
MAX_RESULTS = 20


@dataclass(frozen=True)
class PersonFound:
    """One search result."""

    person: PersonRef
    status: HealthStatus
    exemptions: tuple[ExemptionLine, ...]  # in force and not used up: the one query for it
    today: tuple[PassageRecord, ...]


def search_persons(
    text: str, *, actor: Actor, units: UnitOfWorkFactory, passages: PassageLogReader
) -> list[PersonFound]:
    """Present persons by name, room ("3-2-502" or "502") or a document's last four."""
    query = text.strip()[:MAX_QUERY]
    if not query:
        return []
    midnight = start_of_local_day(local_date(actor.at))
    with units(actor) as uow:
        matches = uow.persons.search(query, limit=MAX_RESULTS)
        refs = [match.person.ref for match in matches]
        exemptions = uow.exemptions.active(person_refs=refs) if refs else []
    by_person: dict[str, list[ExemptionLine]] = {}
    for line in exemptions:
        by_person.setdefault(line.person_ref, []).append(line)
    return [
        PersonFound(
            person=match.person,
            status=match.status,
            exemptions=tuple(by_person.get(match.person.ref, ())),
            today=tuple(passages.by_person(match.person.ref, since=midnight)),
        )
        for match in matches
    ]
