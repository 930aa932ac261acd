"""Building, unit and room labels as people write them, reduced to one canonical key.

Spreadsheets say "3号楼", "3栋", "３" or "3 幢" for the same building; the registry keeps
the canonical key ("3") so that all of them find it.
"""

from __future__ import annotations

import re
import unicodedata

_BUILDING_SUFFIX = re.compile(r"(号楼|号|栋|幢|楼|座)$")
_UNIT_SUFFIX = re.compile(r"(单元|门)$")
_ROOM_SUFFIX = re.compile(r"(室|号|房)$")


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()


def building_key(label: str) -> str:
    """Canonical building key: "3号楼" -> "3"."""
    return _BUILDING_SUFFIX.sub("", _fold(label))


def unit_key(label: str) -> str:
    """Canonical unit key: "2单元" -> "2"."""
    return _UNIT_SUFFIX.sub("", _fold(label))


def room_key(label: str) -> str:
    """Canonical room key: "502室" -> "502"."""
    return _ROOM_SUFFIX.sub("", _fold(label))


def building_label(key: str) -> str:
    """How a building is shown: "3" -> "3号楼"."""
    return f"{key}号楼"


def unit_label(key: str) -> str:
    """How a unit is shown: "2" -> "2单元"."""
    return f"{key}单元"


def home_label(building: str, unit: str, room: str) -> str:
    """A flat as people write it, from its keys: "1号楼2单元302"."""
    return f"{building_label(building)}{unit_label(unit)}{room}"


def natural_key(key: str) -> tuple[int, str]:
    """Sort building and unit keys as people count: "2" before "10", letters last."""
    return (int(key), "") if key.isdigit() else (1 << 30, key)
