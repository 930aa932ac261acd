"""Import the property office's spreadsheet (all or nothing) and export the registry.

The upload's size is capped before it is read (``api.web.limits``, for this exact path);
the file goes to a private temporary folder under a name of our own choosing and is
deleted after the import. A file whose headings were not recognised is not imported: it
waits (``api.web.import_staging``) while the page shows the mapping step, each of our
columns -> one of theirs, pre-filled by the guesses, with a preview of the first rows;
the import then runs with that mapping, still all or nothing. An export is written the
same way and streamed; a revealing export (full document numbers and phones) is for the
office and the administrator only, and the use case audits it as such.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from api.i18n import MESSAGES, t
from api.web.deps import Forbidden, actor, deny, language, web
from api.web.import_staging import StagedImport
from api.web.office_common import IoPost, IoUser, page
from api.web.report_xlsx import XLSX_TYPE
from gate.app.registry_io import (
    ExportRegistry,
    ImportRegistry,
    export_registry,
    import_registry,
    write_import_template,
)
from gate.app.registry_values import CompoundName, ImportLimits, ImportMapping, ImportReport
from gate.app.staff_values import ActiveSession
from gate.domain.errors import (
    GateError,
    ImportNeedsMapping,
    ImportProblem,
    ImportRejected,
    SheetHeadings,
)
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
    key = f"office.io.{'file' if problem.row == 0 else 'row'}.{problem.reason}"
    message = problem.message
    if key in MESSAGES.get(lang, {}):
        params = dict(problem.params)
        for name in ("limit", "size"):
            if isinstance(params.get(name), int) and params[name] >= MiB:
                params[f"{name}_mib"] = params[name] // MiB
        for name in ("name", "other"):
            if isinstance(params.get(name), str):
                params[f"{name}_label"] = t(lang, f"office.io.col.{params[name]}")
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
    notice: str | None = None,
    mapping: dict[str, Any] | None = None,
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
        notice=notice,
        mapping=mapping,
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
        except ImportNeedsMapping as needs:
            staged = web(request).staged_imports.stage(
                path, session_id=user.session_id, needs=needs
            )
            sheet = _sheet(needs, needs.chosen)
            return _mapping_page(request, user, staged, sheet, dict(sheet.columns))
        except ImportRejected as rejected:
            return _io_page(request, user, status_code=422, rejected=rejected)
    return _io_page(request, user, report=report)


def _sheet(needs: ImportNeedsMapping, name: str) -> SheetHeadings:
    return next((sheet for sheet in needs.sheets if sheet.name == name), needs.sheets[0])


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _mapping_page(
    request: Request,
    user: ActiveSession,
    staged: StagedImport,
    sheet: SheetHeadings,
    columns: dict[str, int],
    *,
    rejected: ImportRejected | None = None,
) -> Response:
    """The mapping step: our columns -> theirs (selects), the preview by our columns."""
    needs = staged.needs
    mapped = [column for column in needs.ours if column.name in columns]
    preview = [
        [row[columns[column.name]] if columns[column.name] < len(row) else "" for column in mapped]
        for row in sheet.preview
    ]
    first = needs.problems[0]
    reason = "several_sheets" if first.reason == "several_sheets" else "unrecognised"
    mapping = {
        "token": staged.token,
        "file": staged.path.name,
        "reason": reason,
        "complete_sheets": first.params.get("sheets", ""),
        "sheets": [s.name for s in needs.sheets if s.header_row],
        "sheet": sheet,
        "ours": needs.ours,
        "theirs": [
            (index, f"{_column_letter(index)} · {heading}" if heading else _column_letter(index))
            for index, heading in enumerate(sheet.headings)
        ],
        "columns": columns,
        "mapped": mapped,
        "preview": preview,
    }
    return _io_page(
        request,
        user,
        status_code=422 if rejected else 200,
        rejected=rejected,
        mapping=mapping,
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


MappingForm = Annotated[dict[str, str], Depends(_form)]


def _chosen_columns(form: dict[str, str], sheet: SheetHeadings) -> dict[str, int]:
    columns: dict[str, int] = {}
    for key, value in form.items():
        if key.startswith("col_") and value.isascii() and value.isdigit():
            index = int(value)
            if index < len(sheet.headings):
                columns[key.removeprefix("col_")] = index
    return columns


@router.post("/import/mapping")
def import_mapped(request: Request, user: IoPost, form: MappingForm) -> Response:
    """The mapping step's answer: preview again, import with the mapping, or cancel."""
    lang = language(request)
    staging = web(request).staged_imports
    staged = staging.get(form.get("token", ""), session_id=user.session_id)
    if staged is None:
        return _io_page(request, user, status_code=422, error=t(lang, "office.io.map.gone"))
    action = form.get("action", "preview")
    if action == "cancel":
        staging.drop(staged.token)
        return _io_page(request, user, notice=t(lang, "office.io.map.cancelled"))
    sheet = _sheet(staged.needs, form.get("sheet", ""))
    if sheet.name != form.get("shown_sheet"):
        # Another sheet chosen: its own guesses, not the selects made for the last one.
        return _mapping_page(request, user, staged, sheet, dict(sheet.columns))
    columns = _chosen_columns(form, sheet)
    if action != "import":
        return _mapping_page(request, user, staged, sheet, columns)
    settings = web(request).services.settings
    command = ImportRegistry(
        path=staged.path,
        compound=CompoundName(settings.compound.code, settings.compound.name),
        limits=ImportLimits.of(
            max_file_mb=settings.imports.max_file_mb, max_rows=settings.imports.max_rows
        ),
        mapping=ImportMapping(sheet.name, sheet.header_row, columns),
    )
    try:
        report = import_registry(
            command, actor=actor(request, user), units=web(request).services.units
        )
    except ImportRejected as rejected:
        return _mapping_page(request, user, staged, sheet, columns, rejected=rejected)
    staging.drop(staged.token)
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
