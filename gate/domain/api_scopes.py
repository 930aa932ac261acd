"""What a machine's API key may do (its scopes), and the staff permission of each.

The one list of scopes: the CLI refuses any other, the ``/api/v1`` routes each name one,
and a signed-in staff member reaches a route if their role carries the scope's permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from gate.domain.errors import ActionRefused
from gate.domain.roles import Permission


class ApiScope(StrEnum):
    """One thing an API key may do."""

    PASSAGES_READ = "passages:read"  # the passage feed (pseudonymous refs, no numbers)
    PASSAGES_READ_MASKED_DOCUMENTS = "passages:read-masked-documents"  # plus masked numbers
    REPORTS_READ = "reports:read"  # the daily report
    CONTROLS_WRITE = "controls:write"  # the district's control lists
    TRACE_READ = "trace:read"  # a person's passages, who passed in a window
    REGISTRY_READ = "registry:read"  # registry counts
    DEVICES_READ = "devices:read"  # device health
    PASSAGES_PUSH = "passages:push"  # a compound's gate pushing its passages to the hub
    METRICS_READ = "metrics:read"  # /metrics, for the monitoring's scraper (counts only)


# The staff permission that opens a scope's routes to a signed-in account.
STAFF_PERMISSION: dict[ApiScope, Permission] = {
    ApiScope.PASSAGES_READ: Permission.SHIFT_REPORT,
    ApiScope.PASSAGES_READ_MASKED_DOCUMENTS: Permission.AUDIT,
    ApiScope.REPORTS_READ: Permission.SHIFT_REPORT,
    ApiScope.CONTROLS_WRITE: Permission.MANAGE_RULES,
    ApiScope.TRACE_READ: Permission.AUDIT,
    ApiScope.REGISTRY_READ: Permission.REGISTRY_IO,
    ApiScope.DEVICES_READ: Permission.TERMINAL,
    # Pushing is a machine's job; a staff session may only look where an edge resumes.
    ApiScope.PASSAGES_PUSH: Permission.REGISTRY_IO,
    ApiScope.METRICS_READ: Permission.TERMINAL,
}


def parse_scopes(texts: Iterable[str]) -> tuple[ApiScope, ...]:
    """The scopes named (deduplicated, in list order); ``ActionRefused`` for an unknown one."""
    found: list[ApiScope] = []
    for text in texts:
        try:
            scope = ApiScope(text.strip())
        except ValueError:
            known = ", ".join(scope.value for scope in ApiScope)
            raise ActionRefused("api_scope_unknown", scope=text.strip()[:40], known=known) from None
        if scope not in found:
            found.append(scope)
    if not found:
        raise ActionRefused("api_scope_required")
    return tuple(found)
