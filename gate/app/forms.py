"""What people type (a day, a local time, ``key=value`` parameters), read once for all.

Each raises ``ActionRefused`` with a code the screens translate and the CLI prints.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

from gate.domain.errors import ActionRefused
from gate.domain.model import ParamValue
from gate.domain.rules import RULE_PARAMETERS, RuleKind
from gate.domain.status import LOCAL_TZ, start_of_local_day


def parse_day(text: str, *, field_name: str, required: bool = False) -> date | None:
    """A ``YYYY-MM-DD`` day; None when empty and not required."""
    value = text.strip()
    if not value:
        if required:
            raise ActionRefused("required", field=field_name)
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ActionRefused("date_format", field=field_name) from None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(m|min|h|d)")
_UNIT = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str, *, field_name: str) -> timedelta | None:
    """``30m``, ``2h``, ``1.5h``, ``7d``; None when empty."""
    value = text.strip().lower()
    if not value:
        return None
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ActionRefused("duration_format", field=field_name)
    return timedelta(**{_UNIT[match[2]]: float(match[1])})


def parse_local_time(text: str, *, field_name: str, now: datetime | None = None) -> datetime | None:
    """A local ``YYYY-MM-DDTHH:MM`` (naive means Asia/Shanghai), a day (its local midnight),
    or ``now`` when a clock is given; None when empty."""
    value = text.strip()
    if not value:
        return None
    if value == "now" and now is not None:
        return now
    try:
        if len(value) == 10:
            return start_of_local_day(date.fromisoformat(value))
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ActionRefused("date_format", field=field_name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def parse_params(kind: RuleKind, lines: str | list[str]) -> dict[str, ParamValue]:
    """``key=value`` items (lines, ``;``-separated, or a list) checked against what ``kind`` reads.

    A value is read as JSON when it parses (``48``, ``true``, ``"23:00"``), else as text.
    """
    known = RULE_PARAMETERS.get(kind, {})
    items = lines if isinstance(lines, list) else lines.replace(";", "\n").splitlines()
    params: dict[str, ParamValue] = {}
    for item in items:
        line = item.strip()
        if not line:
            continue
        key, sep, raw = line.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise ActionRefused("param_format", line=line[:40])
        if key not in known:
            raise ActionRefused("param_unknown", name=key[:40], known=", ".join(known) or "—")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if not isinstance(value, str | int | float | bool) or not known[key](value):
            raise ActionRefused("param_value", name=key)
        params[key] = value
    return params
