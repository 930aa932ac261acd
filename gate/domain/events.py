"""Passage events for the guard feed, MQTT and other listeners.

Names follow the ONVIF access-control events (AccessGranted, AccessDenied) plus
AccessReview for "the guard decides" and Override for a guard's decision, so that a
bridge to a building's other systems is a mapping, not a translation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from gate.domain.device_ports import DeviceAlarm
from gate.domain.model import Decision, DocumentRead, Outcome, PassageRecord
from gate.domain.snapshot import PersonFacts, VisitFacts

logger = logging.getLogger(__name__)


class EventType(StrEnum):
    """What happened at the gate."""

    ACCESS_GRANTED = "AccessGranted"
    ACCESS_DENIED = "AccessDenied"
    ACCESS_REVIEW = "AccessReview"
    OVERRIDE = "Override"


EVENT_FOR_OUTCOME = {
    Outcome.ALLOW: EventType.ACCESS_GRANTED,
    Outcome.DENY: EventType.ACCESS_DENIED,
    Outcome.REVIEW: EventType.ACCESS_REVIEW,
}


@dataclass(frozen=True)
class PassageEvent:
    """One passage as listeners see it.

    ``record`` is None only when the log refused the write (the barrier stayed shut).
    ``card`` carries an outsider's card read, in memory only, so the guard can register
    them as a visitor; it is never written anywhere.
    """

    type: EventType
    decision: Decision
    record: PassageRecord | None
    barrier_opened: bool
    person: PersonFacts | None = None
    visit: VisitFacts | None = None
    card: DocumentRead | None = None
    seconds: float | None = None  # credential in to barrier commanded (the decision's latency)


GateEvent = PassageEvent | DeviceAlarm
Handler = Callable[[GateEvent], None]


class EventBus:
    """In-process publish/subscribe; a failing listener never stops a passage."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call ``handler`` for every event; returns the function that unsubscribes."""
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: GateEvent) -> None:
        """Deliver ``event`` to every listener."""
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(event)
            except Exception:
                logger.exception("event listener %r failed", handler)
