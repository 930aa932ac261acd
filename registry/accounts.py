"""Moved: staff accounts and sessions are ``gate.app.staff`` (use cases) on ``staff_store``.

Only the name below stays, for the office pages that still import it from here; import
``ActiveSession`` from ``gate.app.staff_values``.
"""

from __future__ import annotations

from gate.app.staff_values import ActiveSession

__all__ = ["ActiveSession"]
