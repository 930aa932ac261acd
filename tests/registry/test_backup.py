"""A backup refuses what it cannot vouch for: a changed byte, a wrong passphrase, a short one."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gate.domain.errors import BackupInvalid
from registry.backup import BackupLayout, write_backup
from registry.backup_restore import read_summary, restore_backup
from registry.backup_seal import check_passphrase
from registry.database import Database

PASSPHRASE = "a passphrase of several words"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _layout(folder: Path) -> BackupLayout:
    return BackupLayout(
        secret_files={"data.key": folder / "secret.key"},
        plain_files={"log-anchors.jsonl": folder / "log-anchors.jsonl"},
        required=frozenset({"data.key"}),
    )


def _backup(database: Database, tmp_path: Path) -> Path:
    folder = tmp_path / "gate"
    folder.mkdir()
    (folder / "secret.key").write_text("c2VjcmV0IGtleSBieXRlcw==\n")
    out = tmp_path / "gate.backup"
    write_backup(
        database=database,
        layout=_layout(folder),
        out=out,
        passphrase=PASSPHRASE,
        compound="ruyi",
        now=NOW,
        scrypt_n=2**14,
    )
    return out


def _rewrite(source: Path, target: Path, change: str) -> None:
    """A copy of the archive with one member's bytes (or the manifest's compound) changed."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for info in old.getmembers():
            data = old.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == change == "manifest.json":
                manifest = json.loads(data)
                manifest["compound"] = "other"
                data = json.dumps(manifest).encode()
            elif info.name == change:
                data = data[:-1] + bytes([data[-1] ^ 1])
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))


def test_a_backup_reads_back_with_its_passphrase(database: Database, tmp_path: Path) -> None:
    out = _backup(database, tmp_path)
    summary = read_summary(out, PASSPHRASE)
    assert (summary.engine, summary.compound, summary.secrets) == (
        database.dialect,
        "ruyi",
        ("data.key",),
    )
    assert summary.revision == database.head_revision()
    with pytest.raises(BackupInvalid, match="wrong passphrase"):
        read_summary(out, PASSPHRASE + "!")
    with pytest.raises(BackupInvalid, match="exists already"):
        write_backup(
            database=database,
            layout=_layout(tmp_path / "gate"),
            out=out,
            passphrase=PASSPHRASE,
            compound="ruyi",
            now=NOW,
        )


@pytest.mark.parametrize("member", ["manifest.json", "keys.sealed", "database"])
def test_a_changed_byte_anywhere_is_refused_before_anything_is_written(
    member: str, database: Database, tmp_path: Path
) -> None:
    out = _backup(database, tmp_path)
    name = {"database": "database.sqlite" if database.dialect == "sqlite" else "database.pgdump"}
    changed = tmp_path / "changed.backup"
    _rewrite(out, changed, name.get(member, member))
    target = tmp_path / "restored"
    with pytest.raises(BackupInvalid, match=r"wrong passphrase|checksum|damaged"):
        restore_backup(
            source=changed,
            passphrase=PASSPHRASE,
            database=database,
            layout=_layout(target),
            replace=True,
            aside=target / "aside",
        )
    assert not target.exists()
    assert database.current_revision() == database.head_revision()


def test_a_backup_needs_its_data_key_and_a_real_passphrase(
    database: Database, tmp_path: Path
) -> None:
    with pytest.raises(BackupInvalid, match="nothing to back up"):
        write_backup(
            database=database,
            layout=_layout(tmp_path),
            out=tmp_path / "gate.backup",
            passphrase=PASSPHRASE,
            compound="ruyi",
            now=NOW,
        )
    assert not (tmp_path / "gate.backup").exists()
    with pytest.raises(BackupInvalid, match="at least 12"):
        check_passphrase("short")
