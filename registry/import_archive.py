"""An XLSX is a zip archive: check what it would inflate to before anything parses it.

A few hundred kilobytes of deflate can hold gigabytes (one cell of 400 MiB of ``A`` is
412 KB on disk). Before openpyxl sees the file, ``check_archive`` refuses an archive with
too many members, a declared total or a member's compression ratio past the limits, and
then inflates every member itself, in chunks and counting, from the raw bytes: a
member whose real size differs from the one declared (the central directory can lie) or
whose running total passes the limit is refused the moment it does. Nothing but one
chunk is held in memory.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from gate.app.registry_values import ImportLimits, file_refused

CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_ENCRYPTED = 0x1
MiB = 1 << 20


def check_archive(path: Path, limits: ImportLimits) -> None:
    """Refuse (``ImportRejected``) an archive that inflates past ``limits``; else return."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_declared(members, limits)
            with path.open("rb") as raw:
                size = path.stat().st_size
                total = 0
                for member in members:
                    total += _inflated_size(raw, size, member, limits, total)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, struct.error) as exc:
        raise file_refused(
            "malformed_file", f"不是有效的 XLSX 文件 ({type(exc).__name__})"
        ) from None


def _too_large(size: int, limits: ImportLimits) -> Exception:
    return file_refused(
        "archive_too_large",
        f"XLSX 解压后超过 {limits.max_unpacked_bytes // MiB} MiB 的上限",
        size=size,
        limit=limits.max_unpacked_bytes,
    )


def _check_declared(members: list[zipfile.ZipInfo], limits: ImportLimits) -> None:
    if len(members) > limits.max_members:
        raise file_refused(
            "archive_too_many_members",
            f"XLSX 含 {len(members)} 个部件，超过 {limits.max_members} 个的上限",
            members=len(members),
            limit=limits.max_members,
        )
    declared = sum(member.file_size for member in members)
    if declared > limits.max_unpacked_bytes:
        raise _too_large(declared, limits)
    for member in members:
        _check_ratio(member.file_size, member.compress_size, limits)


def _check_ratio(inflated: int, compressed: int, limits: ImportLimits) -> None:
    # Small parts compress as they like; a big one that shrank past any real sheet is a bomb.
    if inflated > limits.ratio_floor_bytes and inflated > limits.max_ratio * max(compressed, 1):
        raise file_refused(
            "archive_ratio",
            f"XLSX 的压缩比超过 {limits.max_ratio}:1，疑似压缩炸弹",
            ratio=inflated // max(compressed, 1),
            limit=limits.max_ratio,
        )


def _inflated_size(
    raw: BinaryIO, file_size: int, member: zipfile.ZipInfo, limits: ImportLimits, before: int
) -> int:
    """Inflate ``member`` from its raw bytes, counting; its real size, checked."""
    if member.flag_bits & _ENCRYPTED:
        raise ValueError("encrypted member")
    raw.seek(member.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != _LOCAL_SIGNATURE:
        raise zipfile.BadZipFile("bad local header")
    raw.seek(member.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11])
    remaining = min(member.compress_size, max(file_size - raw.tell(), 0))
    if member.compress_type == zipfile.ZIP_STORED:
        inflate = None
    elif member.compress_type == zipfile.ZIP_DEFLATED:
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    else:
        raise ValueError(f"compression method {member.compress_type}")
    inflated = 0
    budget = limits.max_unpacked_bytes - before
    while remaining > 0 or (inflate is not None and inflate.unconsumed_tail):
        if inflate is not None and inflate.unconsumed_tail:
            chunk = inflate.decompress(inflate.unconsumed_tail, CHUNK)
        else:
            data = raw.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            chunk = data if inflate is None else inflate.decompress(data, CHUNK)
        inflated += len(chunk)
        if inflated > member.file_size:
            raise _inconsistent(member)
        if inflated > budget:
            raise _too_large(before + inflated, limits)
        _check_ratio(inflated, member.compress_size, limits)
        if inflate is not None and inflate.eof:
            break
    if inflated != member.file_size or (inflate is not None and not inflate.eof):
        raise _inconsistent(member)
    return inflated


def _inconsistent(member: zipfile.ZipInfo) -> Exception:
    return file_refused(
        "archive_inconsistent",
        "XLSX 中的部件大小与声明不符，文件已损坏或被篡改",
        member=member.filename[:80],
    )
