"""The message catalogue of the web app: Chinese first, English by a switch.

Reasons travel as codes with parameters (``quarantine_no_exit``, ``{"until": ...}``) and
become sentences only here, at the screen. A missing key shows the key itself, and a
test checks that both languages know every key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from api.messages import (
    api_keys,
    assessments,
    controls,
    core,
    imports,
    office,
    office_faces,
    office_forms,
    passes,
    phone,
    report,
    visit,
)
from gate.domain.errors import ActionRefused, DocumentInvalid, NotFound, OutOfScope
from gate.domain.status import LOCAL_TZ

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        **core.ZH,
        **office.ZH,
        **imports.ZH,
        **office_forms.ZH,
        **office_faces.ZH,
        **assessments.ZH,
        **report.ZH,
        **passes.ZH,
        **phone.ZH,
        **visit.ZH,
        **api_keys.ZH,
        **controls.ZH,
    },
    "en": {
        **core.EN,
        **office.EN,
        **imports.EN,
        **office_forms.EN,
        **office_faces.EN,
        **assessments.EN,
        **report.EN,
        **passes.EN,
        **phone.EN,
        **visit.EN,
        **api_keys.EN,
        **controls.EN,
    },
}


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(lang: str, key: str, /, **params: Any) -> str:
    """The message ``key`` in ``lang`` with ``params`` filled in."""
    catalogue = MESSAGES.get(lang, MESSAGES[DEFAULT_LANGUAGE])
    template = catalogue.get(key, key)
    return template.format_map(_Defaulting({k: _display(lang, k, v) for k, v in params.items()}))


def _display(lang: str, key: str, value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            local = datetime.fromisoformat(value).astimezone(LOCAL_TZ)
        except (ValueError, OverflowError):  # not a moment, or one at the end of the calendar
            return value
        if key == "until" and (local.hour, local.minute, local.second) == (0, 0, 0):
            # Ends are exclusive midnights: "until 12-12 00:00" reads as "through 12-11".
            return (local - timedelta(days=1)).strftime("%m-%d")
        return local.strftime("%m-%d %H:%M")
    if value is None:
        return "—" if key != "until" else ("待定" if lang == "zh" else "further notice")
    if key == "presence":
        return t(lang, f"presence.{value}")
    if key == "direction":
        return t(lang, f"direction.{value}") if value else ""
    if key == "code":
        return t(lang, f"override.reason.{value}")
    return value


def reason_text(lang: str, code: str, params: dict[str, Any]) -> str:
    """A decision reason as a sentence for the guard."""
    kind, status = params.get("kind"), params.get("status")
    if isinstance(kind, str) and f"pass.kind.{kind}" in MESSAGES[lang]:
        params = {**params, "kind": t(lang, f"pass.kind.{kind}")}
    if isinstance(status, str) and f"status.{status}" in MESSAGES[lang]:
        params = {**params, "status": t(lang, f"status.{status}")}
    text = t(lang, f"reason.{code}", **params)
    if params.get("soft"):
        text += t(lang, "reason.soft")
    return text


SHOWN_PARAM = 40


def refusal_text(lang: str, problem: Exception) -> str:
    """A refused command in words: what was wrong and, where it helps, what to do.

    Only codes and their parameters are translated; an exception's own (English) message
    never reaches a screen.
    """
    if isinstance(problem, ActionRefused):
        params = {key: _shown(lang, key, value) for key, value in problem.params.items()}
        return t(lang, f"office.error.{problem.code}", **params)
    if isinstance(problem, DocumentInvalid):
        reason = t(lang, f"office.doc_invalid.{problem.reason}", **dict(problem.params))
        return t(lang, "office.error.document", reason=reason)
    if isinstance(problem, NotFound):
        return t(lang, "error.not_found")
    if isinstance(problem, OutOfScope):
        return t(lang, "office.error.out_of_scope")
    return t(lang, "office.error.other")


def _shown(lang: str, key: str, value: Any) -> Any:
    if key == "field":
        return t(lang, f"office.field.{value}")
    if isinstance(value, str):
        return value[:SHOWN_PARAM]
    return value
