"""A refused command leaves an audit row saying who tried what, and why, in codes."""

from __future__ import annotations

from gate.app.actor import Actor
from gate.app.ports import UnitOfWorkFactory
from gate.domain.errors import ActionRefused, DocumentInvalid, GateError, NotFound, OutOfScope


def refusal_code(problem: Exception) -> str:
    """The machine-readable reason of a refusal (what the audit row and the screens use)."""
    if isinstance(problem, ActionRefused):
        return problem.code
    if isinstance(problem, DocumentInvalid):
        return f"document_{problem.reason}"
    if isinstance(problem, NotFound):
        return "not_found"
    if isinstance(problem, OutOfScope):
        return "out_of_scope"
    return "refused"


def audit_refusal(units: UnitOfWorkFactory, actor: Actor, target: str, problem: GateError) -> None:
    """Write ``action.refused`` for ``target`` in a transaction of its own (nothing else)."""
    detail: dict[str, object] = {"reason": refusal_code(problem)}
    if isinstance(problem, ActionRefused) and problem.params:
        detail["params"] = {key: str(value)[:80] for key, value in problem.params.items()}
    with units(actor) as uow:
        uow.audit("action.refused", target, detail)
        uow.commit()
