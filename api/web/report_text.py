"""The shift report in words, shared by its page and its XLSX: one wording for both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from api.i18n import MESSAGES, reason_text, t
from gate.app.report_values import GuardDecision, Who
from gate.domain.model import Reason
from gate.domain.status import LOCAL_TZ

SHORT = "%m-%d %H:%M"
LONG = "%Y-%m-%d %H:%M"


def local(moment: datetime | None, fmt: str = SHORT) -> str:
    """A moment in Asia/Shanghai ("" for none)."""
    return moment.astimezone(LOCAL_TZ).strftime(fmt) if moment is not None else ""


@dataclass(frozen=True)
class ReportText:
    """The report's wording in one language."""

    lang: str

    def t(self, key: str, **params: object) -> str:
        """A catalogue message."""
        return t(self.lang, key, **params)

    def reasons(self, reasons: tuple[Reason, ...]) -> str:
        """Reasons as sentences, one after another."""
        return "；".join(reason_text(self.lang, r.code, dict(r.params)) for r in reasons)

    def reason(self, code: str) -> str:
        """A decision reason's code as the guard reads it, where that needs no particulars.

        The hub knows a denial's deciding reason by its code only; a sentence that would
        name a date or a person it does not have stays the code.
        """
        template = MESSAGES[self.lang].get(f"reason.{code}")
        if template is None or "{" in template:
            return code
        return reason_text(self.lang, code, {})

    def name(self, who: Who) -> str:
        """The masked name, or what the gate knew of them."""
        return who.name or t(self.lang, f"identity.{who.identity_kind}")

    def outcome(self, outcome: str) -> str:
        """allow / review / deny in words."""
        return t(self.lang, f"outcome.{outcome}")

    def direction(self, direction: str) -> str:
        """in / out in words."""
        return t(self.lang, f"direction.{direction}")

    def code(self, code: str | None) -> str:
        """A guard's reason code in words."""
        return t(self.lang, f"override.reason.{code}") if code else ""

    def handling(self, decision: GuardDecision | None) -> str:
        """Who decided an alert, when and how; or that nobody has."""
        if decision is None:
            return t(self.lang, "report.unhandled")
        return t(
            self.lang,
            "report.handled_by",
            guard=decision.guard,
            at=local(decision.at),
            outcome=self.outcome(decision.outcome),
        )
