"""Hostile XLSX archives built on the spot: a huge cell, a lying size, many members.

Each is a workbook openpyxl would open (the parts an XLSX needs, a sheet with the
template's headings), small on disk and huge once inflated. Nothing big is ever held in
memory here: the huge part is written to the archive in chunks.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from registry.tabular import COLUMNS

MiB = 1024 * 1024

_OOXML = "http://schemas.openxmlformats.org"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_REL_TYPE = f"{_OOXML}/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8"?>'
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_OOXML}/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEET_TYPE}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_SHEET_TYPE}.worksheet+xml"/></Types>'
)
_RELS = (
    f'{_XML}<Relationships xmlns="{_OOXML}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL_TYPE}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    f'{_XML}<workbook xmlns="{_OOXML}/spreadsheetml/2006/main" xmlns:r="{_REL_TYPE}">'
    '<sheets><sheet name="人员登记" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_OOXML}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL_TYPE}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_SHEET_HEAD = f'{_XML}<worksheet xmlns="{_OOXML}/spreadsheetml/2006/main"><sheetData>'
_SHEET_TAIL = "</sheetData></worksheet>"


def _cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def _heading_row() -> str:
    cells = "".join(
        _cell(f"{chr(ord('A') + index)}1", column.heading) for index, column in enumerate(COLUMNS)
    )
    return f'<row r="1">{cells}</row>'


def _small_parts(archive: zipfile.ZipFile) -> None:
    archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
    archive.writestr("_rels/.rels", _RELS)
    archive.writestr("xl/workbook.xml", _WORKBOOK)
    archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)


def huge_cell(path: Path, *, mib: int = 400) -> Path:
    """One cell (姓名 of row 2) of ``mib`` MiB of ``A``, its size declared honestly."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _small_parts(archive)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                f'{_SHEET_HEAD}{_heading_row()}<row r="2"><c r="D2" t="inlineStr"><is><t>'.encode()
            )
            block = b"A" * MiB
            for _ in range(mib):
                sheet.write(block)
            sheet.write(f"</t></is></c></row>{_SHEET_TAIL}".encode())
    return path


def lying_size(path: Path, *, mib: int = 400, declared: int = 4096) -> Path:
    """``huge_cell`` whose central directory declares the sheet ``declared`` bytes."""
    huge_cell(path, mib=mib)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        offset = _central_entry_offset(path, info.filename.encode())
    with path.open("r+b") as handle:
        handle.seek(offset)
        entry = bytearray(handle.read(46 + len(info.filename) + 64))
        name_length, extra_length = struct.unpack_from("<HH", entry, 28)
        extra = entry[46 + name_length : 46 + name_length + extra_length]
        if struct.unpack_from("<I", entry, 24)[0] == 0xFFFFFFFF:  # the size lives in ZIP64 extra
            position = 0
            while position < len(extra):
                tag, size = struct.unpack_from("<HH", extra, position)
                if tag == 0x0001:
                    struct.pack_into("<Q", extra, position + 4, declared)
                    break
                position += 4 + size
            entry[46 + name_length : 46 + name_length + extra_length] = extra
        else:
            struct.pack_into("<I", entry, 24, declared)
        handle.seek(offset)
        handle.write(entry)
    return path


def _central_entry_offset(path: Path, name: bytes) -> int:
    data = path.read_bytes()
    position = data.rfind(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + name_length] == name:
            return position
        position = data.rfind(b"PK\x01\x02", 0, position)
    raise AssertionError(f"no central directory entry for {name!r}")


def many_members(path: Path, *, members: int = 60_000) -> Path:
    """A valid workbook plus ``members`` tiny parts nobody asked for."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        _small_parts(archive)
        archive.writestr("xl/worksheets/sheet1.xml", f"{_SHEET_HEAD}{_heading_row()}{_SHEET_TAIL}")
        for index in range(members):
            archive.writestr(f"customXml/item{index}.xml", "")
    return path


def many_medium_members(path: Path, *, members: int = 40, mib: int = 10) -> Path:
    """A valid workbook plus ``members`` parts of ``mib`` MiB each, each alone unremarkable."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _small_parts(archive)
        archive.writestr("xl/worksheets/sheet1.xml", f"{_SHEET_HEAD}{_heading_row()}{_SHEET_TAIL}")
        block = b" " * MiB
        for index in range(members):
            with archive.open(f"xl/media/padding{index}.xml", "w") as part:
                for _ in range(mib):
                    part.write(block)
    return path
