"""The stores of the administrative use cases; ``UnitOfWork`` hands them out like the others.

Staff accounts and their sessions (``gate.app.staff``), the shift report and the audit
log (``gate.app.reports``), and the registry as a whole: counts, schema, spreadsheets in
and out (``gate.app.registry_io``; the blank template's writer comes on its own). Like
every store they validate nothing and audit nothing; each is bound to its unit's session
and actor, and "now" is the actor's time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from gate.app.registry_values import (
    CompoundName,
    ImportLimits,
    ImportMapping,
    ImportReport,
    RegistryStats,
    SchemaState,
)
from gate.app.report_values import AuditFilter, AuditLine, AuditPage, DailyReport, ShiftReport
from gate.app.staff_values import AccountOnFile, SessionOnFile
from gate.domain.roles import Role


class StaffStore(Protocol):
    """Staff accounts and web sessions; passwords, PINs and tokens are hashed in here."""

    def account(self, username: str) -> AccountOnFile | None:
        """The account named ``username`` (revoked or not), or None."""
        ...

    def add(
        self,
        *,
        username: str,
        display_name: str,
        role: Role,
        password: str,
        pin: str | None,
        building_keys: Sequence[str],
        unit_keys: Sequence[str] = (),
    ) -> AccountOnFile:
        """Store a new account, its password and PIN hashed; return it."""
        ...

    def password_matches(self, account: AccountOnFile | None, password: str) -> bool:
        """True if ``password`` is the account's; for no account, as slow, and False."""
        ...

    def pin_matches(self, account: AccountOnFile, pin: str) -> bool:
        """True if the account has a PIN and ``pin`` is it."""
        ...

    def set_failures(
        self, account_id: int, *, failed_logins: int, locked_until: datetime | None
    ) -> None:
        """Store the account's count of failed attempts and its lockout."""
        ...

    def revoke(self, account_id: int) -> None:
        """Disable the account; its sessions' version stops matching."""
        ...

    def open_session(self, account: AccountOnFile) -> str:
        """A new session of the account from the actor's origin; its cookie token, once."""
        ...

    def session(self, token: str) -> SessionOnFile | None:
        """The session behind a cookie token, or None."""
        ...

    def session_by_id(self, session_id: int) -> SessionOnFile | None:
        """The session ``session_id``, or None."""
        ...

    def mark_session(self, session_id: int, *, locked: bool, touched: bool) -> None:
        """Lock or unlock a session; ``touched``: it was active at the actor's time."""
        ...

    def end_session(self, session_id: int) -> None:
        """End a session (if it exists)."""
        ...


class ReportStore(Protocol):
    """The shift report, the daily report and the audit log, read only."""

    def shift(self, start: datetime, end: datetime) -> ShiftReport:
        """The report of the passages in ``[start, end)`` (aware times)."""
        ...

    def daily(self, day: date) -> DailyReport:
        """The report of the local day ``day`` (00:00-24:00 Asia/Shanghai)."""
        ...

    def audit_page(
        self, filters: AuditFilter, *, before: int | None, after: int | None, size: int
    ) -> AuditPage:
        """Up to ``size`` events older than ``before`` (or just newer than ``after``)."""
        ...

    def audit_events(self, filters: AuditFilter) -> Iterator[AuditLine]:
        """Every event matching ``filters``, newest first, read in batches."""
        ...

    def audit_actions(self) -> Sequence[str]:
        """The actions that occur in the log, in order."""
        ...


class RegistryStore(Protocol):
    """The registry as a whole."""

    def counts(self) -> RegistryStats:
        """Counts at the actor's time (persons who moved out are not counted)."""
        ...

    def schema(self) -> SchemaState:
        """The database and its schema revision; ``RegistryUnavailable`` if it is down."""
        ...

    def import_file(
        self,
        path: Path,
        *,
        compound: CompoundName,
        limits: ImportLimits,
        mapping: ImportMapping | None = None,
    ) -> ImportReport:
        """Check every row of a readable CSV/XLSX, then apply them all or raise.

        ``mapping`` reads the office's own columns; without it the headings are found, or
        ``ImportNeedsMapping`` tells what the sheets hold.

        The file is parsed away from the caller's process, within ``limits`` (an archive
        that inflates past them, or a parse that outgrows its memory, is refused).
        ``ImportRejected`` lists every problem by row; the use case tells running gates.
        """
        ...

    def add_building(
        self, *, compound: CompoundName, label: str, units: Sequence[str]
    ) -> tuple[str, int]:
        """Add a building and those of its units that are missing; its key and unit count."""
        ...

    def export_file(self, path: Path, *, reveal: bool) -> int:
        """Write present persons to ``path`` (.xlsx or .csv) in the import layout; count them.

        Numbers and phones are masked unless ``reveal`` (then the file is the owner's only).
        """
        ...


# Writes the empty .xlsx import template (headings, hints, pick lists); needs no database.
TemplateWriter = Callable[[Path], None]
