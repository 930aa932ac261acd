"""Passages as the guard's screen shows them, and the outsiders' card reads kept in memory.

The feed reads the passage log itself (not only this process's events), so a passage
decided by another process - ``gate passage`` from a shell, a second lane PC - appears
too. Card reads of outsiders never reach the log; ``RecentCards`` keeps them here for a
while so the guard can register the visitor from the swipe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from api.i18n import reason_text, t
from gate.domain.documents import mask
from gate.domain.events import GateEvent, PassageEvent
from gate.domain.face_policy import face_reason
from gate.domain.model import CredentialKind, DocumentRead, Outcome, PassageRecord
from gate.domain.people import mask_name
from gate.domain.snapshot import RegistrySnapshot
from gate.domain.status import LOCAL_TZ


class RecentCards:
    """Outsiders' card reads by passage number, for a limited time and count."""

    def __init__(self, *, keep: timedelta = timedelta(minutes=30), limit: int = 500) -> None:
        self._keep = keep
        self._limit = limit
        self._cards: OrderedDict[int, tuple[datetime, DocumentRead]] = OrderedDict()
        self._lock = threading.Lock()

    def on_event(self, event: GateEvent) -> None:
        """Event-bus listener: remember the card of an outsider's passage."""
        if isinstance(event, PassageEvent) and event.card is not None and event.record:
            with self._lock:
                self._cards[event.record.seq] = (event.record.entry.at, event.card)
                while len(self._cards) > self._limit:
                    self._cards.popitem(last=False)

    def get(self, seq: int, *, now: datetime) -> DocumentRead | None:
        """The card read at passage ``seq``, if still kept."""
        with self._lock:
            found = self._cards.get(seq)
        if found is None or now - found[0] > self._keep:
            return None
        return found[1]


def feed_item(
    record: PassageRecord,
    *,
    lang: str,
    snapshot: RegistrySnapshot | None,
    handled: bool = False,
    card: DocumentRead | None = None,
    corrections: int = 0,
) -> dict[str, Any]:
    """One passage for the terminal (masked name, home, outcome, reasons in words).

    A face passage carries ``face``: its band, distance, the camera snapshot's and the
    candidate's enrolment photo's addresses (staff-only routes), and how often guards
    said "not this person" to this candidate before (``corrections``).
    """
    entry = record.entry
    decision = entry.decision
    person = snapshot.persons.get(entry.person_ref) if snapshot and entry.person_ref else None
    name, home, kind = None, None, None
    if person is not None:
        name, home, kind = mask_name(person.name), person.home, t(lang, f"kind.{person.kind.value}")
    elif snapshot is not None and entry.person_ref:
        visit = snapshot.visits_by_ref.get(entry.person_ref)
        if visit is not None:  # a visit by card, by visitor pass or by invite alike
            name, home = mask_name(visit.name), visit.host
    if name is None and card is not None and card.name:
        name = mask_name(card.name)
    local = entry.at.astimezone(LOCAL_TZ)
    return {
        "seq": record.seq,
        "time": local.strftime("%H:%M:%S"),
        "date": local.strftime("%Y-%m-%d"),
        "lane": entry.lane,
        "direction": entry.direction.value,
        "direction_text": t(lang, f"direction.{entry.direction.value}"),
        "credential_text": t(lang, f"credential.{entry.credential_kind.value}"),
        "identity_kind": entry.identity_kind.value,
        "identity_text": t(lang, f"identity.{entry.identity_kind.value}"),
        "name": name,
        "home": home,
        "kind_text": kind,
        "outcome": decision.outcome.value,
        "outcome_text": t(lang, f"outcome.{decision.outcome.value}"),
        "alert": decision.alert.value,
        "reasons": [reason_text(lang, r.code, dict(r.params)) for r in decision.reasons],
        "rule_ids": list(decision.rule_ids),
        "decided_by": entry.decided_by,
        "overrides_seq": entry.overrides_seq,
        "needs_action": decision.outcome is not Outcome.ALLOW
        and entry.overrides_seq is None
        and not handled,
        "card": {"masked": mask(card.number), "name": card.name, "doc_type": card.doc_type.value}
        if card
        else None,
        "face": _face(record, lang, corrections)
        if entry.credential_kind is CredentialKind.FACE
        else None,
    }


def _face(record: PassageRecord, lang: str, corrections: int) -> dict[str, Any]:
    entry = record.entry
    found = face_reason(entry.decision)
    params = dict(found.params) if found is not None else {}
    band = str(params.get("band", "unknown"))
    return {
        "band": band,
        "band_text": t(lang, f"face.band.{band}"),
        "distance": params.get("distance"),
        "snapshot_url": f"/terminal/face-snapshots/{entry.snapshot_ref}"
        if entry.snapshot_ref
        else None,
        "photo_url": f"/terminal/face-photos/{entry.person_ref}" if entry.person_ref else None,
        "corrections": corrections,
        "corrections_text": t(lang, "face.corrections", count=corrections) if corrections else "",
    }
