"""Import the property office's spreadsheet (all or nothing) and export the registry.

The upload's size is capped before it is read (``api.web.limits``, for this exact path);
the file goes to a private temporary folder under a name of our own choosing and is
deleted after the import. An export is written the same way and streamed; a revealing
export (full document numbers and phones) is for the office and the administrator only,
and the use case audits it as such.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from api.i18n import MESSAGES, t
from api.web.deps import Forbidden, actor, deny, language, web
from api.web.office_common import IoPost, IoUser, page
from api.web.report_xlsx import XLSX_TYPE
from gate.app.registry_io import (
    ExportRegistry,
    ImportRegistry,
    export_registry,
    import_registry,
    write_import_template,
)
from gate.app.registry_values import CompoundName, ImportLimits, ImportReport
from gate.app.staff_values import ActiveSession
from gate.domain.errors import GateError, ImportProblem, ImportRejected
from gate.domain.roles import Role
from gate.domain.status import LOCAL_TZ

router = APIRouter(prefix="/office")
FORMATS = {"xlsx": XLSX_TYPE}
FORMATS["csv"] = "text/csv; charset=utf-8"
REVEALING_ROLES = frozenset({Role.OFFICE, Role.ADMIN})


MiB = 1 << 20


@dataclass(frozen=True)
class ShownProblem:
    """One problem as the page shows it: a whole-file refusal in the page's language."""

    row: int
    column: str | None
    message: str


def _shown(lang: str, problem: ImportProblem) -> ShownProblem:
    key = f"office.io.file.{problem.reason}"
    message = problem.message
    if problem.row == 0 and key in MESSAGES.get(lang, {}):
        params = dict(problem.params)
        for name in ("limit", "size"):
            if isinstance(params.get(name), int) and params[name] >= MiB:
                params[f"{name}_mib"] = params[name] // MiB
        message = t(lang, key, **params)
    return ShownProblem(problem.row, problem.column, message)


def _io_page(
    request: Request,
    user: ActiveSession,
    *,
    status_code: int = 200,
    report: ImportReport | None = None,
    rejected: ImportRejected | None = None,
    error: str | None = None,
) -> Response:
    return page(
        request,
        "office_io.html",
        user,
        status_code=status_code,
        section="io",
        report=report,
        problems=[_shown(language(request), p) for p in rejected.problems] if rejected else None,
        may_reveal=user.role in REVEALING_ROLES,
        max_mb=web(request).services.settings.imports.max_file_mb,
        error=error,
    )


@router.get("/import")
def import_page(request: Request, user: IoUser) -> Response:
    """The upload form and the export links."""
    return _io_page(request, user)


def _upload_name(filename: str | None) -> str:
    """A safe file name that keeps the upload's name (for the audit) and its extension."""
    name = Path(filename or "").name
    stem, suffix = Path(name).stem, Path(name).suffix.lower()
    stem = re.sub(r"[^\w\-.]", "_", stem)[:80] or "upload"
    return f"{stem}{suffix[:8]}"


@router.post("/import")
def import_upload(
    request: Request,
    user: IoPost,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import a CSV or XLSX: every row checked first, then all applied, or nothing."""
    lang = language(request)
    if file is None or not file.filename:
        return _io_page(request, user, status_code=422, error=t(lang, "office.io.no_file"))
    services = web(request).services
    settings = services.settings
    with tempfile.TemporaryDirectory(prefix="gate-import-") as folder:
        path = Path(folder) / _upload_name(file.filename)
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        command = ImportRegistry(
            path=path,
            compound=CompoundName(settings.compound.code, settings.compound.name),
            limits=ImportLimits.of(
                max_file_mb=settings.imports.max_file_mb, max_rows=settings.imports.max_rows
            ),
        )
        try:
            report = import_registry(command, actor=actor(request, user), units=services.units)
        except ImportRejected as rejected:
            return _io_page(request, user, status_code=422, rejected=rejected)
    return _io_page(request, user, report=report)


@router.get("/import/template")
def import_template(request: Request, user: IoUser) -> Response:
    """The empty XLSX in the import layout, with hints and pick lists."""
    folder = tempfile.mkdtemp(prefix="gate-template-")
    path = Path(folder) / "住户导入模板.xlsx"
    try:
        write_import_template(path, write=web(request).services.write_template)
    except (GateError, OSError):
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=FORMATS["xlsx"],
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get("/export")
def export(request: Request, user: IoUser, format: str = "xlsx", reveal: str = "0") -> Response:
    """The registry as a file in the import layout; masked unless ``reveal=1`` (audited)."""
    lang = language(request)
    if format not in FORMATS or reveal not in ("0", "1"):
        return _io_page(request, user, status_code=422, error=t(lang, "office.io.bad_export"))
    revealing = reveal == "1"
    if revealing and user.role not in REVEALING_ROLES:
        deny(request, user, "registry.export.reveal", role=user.role.value)
        raise Forbidden
    who = actor(request, user)
    name = f"registry-{who.at.astimezone(LOCAL_TZ):%Y%m%d-%H%M}{'-full' if revealing else ''}"
    folder = tempfile.mkdtemp(prefix="gate-export-")
    path = Path(folder) / f"{name}.{format}"
    try:
        export_registry(
            ExportRegistry(path, reveal=revealing), actor=who, units=web(request).services.units
        )
    except (GateError, OSError):
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=FORMATS[format],
        filename=path.name,
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
