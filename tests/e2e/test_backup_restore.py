"""`gate backup` then `gate restore` into a new database and data folder, on each engine.

The restored gate reads the personal data back, decides a passage with it, takes a pass
signed before the backup, and its passage log verifies against the anchors.
"""

from __future__ import annotations

import json
import tarfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead, Outcome
from gate.domain.passes import PassKind, PassValid
from gate.runtime.bootstrap import Services, bootstrap, build_gate
from gate.runtime.settings import load_settings
from registry.chain_check import verify_chain
from registry.models import Document
from tests.conftest import PostgresServer
from tests.e2e.conftest import QUARANTINED, RESIDENT_A, RESIDENT_B, START, populate
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import gate

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def restored_url(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[str]:
    """A new, empty database of the same engine as the test's own."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'gate.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create()
    yield url
    server.drop(url)


def card(number: str) -> Credential:
    return Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, number)
    )


def test_a_backup_restores_into_a_new_gate_that_reads_decides_and_verifies(
    services: Services, restored_url: str, tmp_path: Path
) -> None:
    populate(services)
    before = build_gate(services, clock=lambda: START)
    for number, direction in ((RESIDENT_A, Direction.OUT), (RESIDENT_B, Direction.OUT)):
        before.pipeline.process(card(number), lane="main", direction=direction)
    before.pipeline.process(card(QUARANTINED), lane="main", direction=Direction.OUT)
    signed = services.pass_signer.sign(
        kind=PassKind.VISITOR,
        subject_ref=str(uuid.uuid4()),
        household_ref=None,
        not_before=START,
        not_after=START + timedelta(days=1),
        rotating=False,
    )
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    out = tmp_path / "usb" / "gate.backup"
    env = env_of(services)

    made = gate(env, "backup", str(out), "--passphrase-file", str(passphrase_file), "--json")
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert (summary["passages"], summary["files"]) == (3, ["log-anchors.jsonl"])
    assert {"data.key", "log-keys/chain.key", "log-keys/anchor.key"} <= set(summary["secrets"])
    assert any(name.startswith("pass-keys/") for name in summary["secrets"])
    assert out.stat().st_mode & 0o777 == 0o600
    # No key in the clear anywhere in the file: each one is sealed under the passphrase.
    raw = out.read_bytes()
    for secret in (services.data_key.path, services.chain_key.path):
        assert secret.read_bytes().strip() not in raw
    with tarfile.open(out) as archive:
        names = set(archive.getnames())
    dump = "database.sqlite" if services.database.dialect == "sqlite" else "database.pgdump"
    assert names == {"manifest.json", "keys.sealed", "files/log-anchors.jsonl", dump}

    target = tmp_path / "restored"
    restored_env = {
        **{key: value for key, value in env.items() if not key.startswith("GATE_")},
        "GATE_DATA_DIR": str(target / "var"),
        "GATE_DATABASE_URL": restored_url,
        "GATE_SECRETS__KEY_FILE": str(target / "data.key"),
    }
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n")
    refused = gate(restored_env, "restore", str(out), "--passphrase-file", str(wrong))
    assert refused.returncode == 1
    assert "wrong passphrase" in refused.stderr
    assert not (target / "data.key").exists()

    done = gate(restored_env, "restore", str(out), "--passphrase-file", str(passphrase_file))
    assert done.returncode == 0, done.stderr
    assert "passage log intact: 3 rows, matches anchor" in done.stdout
    assert (target / "data.key").stat().st_mode & 0o777 == 0o600
    assert gate(restored_env, "log", "verify").returncode == 0

    again = gate(restored_env, "restore", str(out), "--passphrase-file", str(passphrase_file))
    assert again.returncode == 1
    assert "holds tables" in again.stderr

    settings = load_settings(
        data_dir=target / "var",
        database_url=restored_url,
        secrets={"key_file": target / "data.key"},
    )
    restored = bootstrap(settings)
    try:
        with restored.database.session() as session:
            ciphers = session.scalars(select(Document.number_cipher)).all()
        numbers = {restored.cipher.decrypt("document", blob) for blob in ciphers}
        assert numbers == {RESIDENT_A, RESIDENT_B, QUARANTINED}
        check = restored.pass_verifier.verify(signed.text_at(START), now=START)
        assert isinstance(check, PassValid)
        after = build_gate(restored, clock=lambda: START + timedelta(hours=1))
        back = after.pipeline.process(card(RESIDENT_A), lane="main", direction=Direction.IN)
        assert back.decision.outcome is Outcome.ALLOW
        assert back.record is not None
        assert back.record.seq == 4
        report = verify_chain(
            restored.database,
            chain_key=restored.chain_key.material,
            anchors=restored.anchors.log.read().anchors,
        )
        assert (report.intact, report.checked) == (True, 4)
        assert restored.chain_key.key_id == services.chain_key.key_id
    finally:
        restored.close()


def test_restore_with_replace_moves_the_gates_own_files_aside(
    services: Services, restored_url: str, tmp_path: Path
) -> None:
    populate(services)
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE)
    out = tmp_path / "gate.backup"
    env = env_of(services)
    assert gate(env, "backup", str(out), "--passphrase-file", str(passphrase_file)).returncode == 0
    with services.database.engine.begin() as connection:
        connection.execute(text("DELETE FROM documents"))
    services.pass_signer.rotate()  # a pass key the backup does not have
    refused = gate(env, "restore", str(out), "--passphrase-file", str(passphrase_file))
    assert refused.returncode == 1
    assert "--replace" in refused.stderr
    done = gate(env, "restore", str(out), "--passphrase-file", str(passphrase_file), "--replace")
    assert done.returncode == 0, done.stderr
    assert "passage log intact: 0 rows" in done.stdout
    (aside,) = services.settings.data_dir.glob("pre-restore-*")
    moved = sorted(path.name.split("-", 1)[1] for path in aside.iterdir())
    assert moved == ["pass-key-0001.key", "pass-key-0002.key"]
    assert not list((services.settings.data_dir / "pass-keys").glob("*.key"))
    with services.database.session() as session:
        assert session.scalar(text("SELECT count(*) FROM documents")) == 3
