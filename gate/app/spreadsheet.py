"""Text bound for a spreadsheet cell: what the exports share, whatever writes the file."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula (CSV/formula injection)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value
