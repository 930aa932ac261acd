"""The personal-data key against the registry: a wrong or missing key is refused at start,
``gate key rotate`` re-encrypts every encrypted column under a new key in one transaction."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import literal, select

from gate.app.actor import Actor
from gate.app.visit_requests import VisitForm, request_visit
from gate.app.visitors import RegisterVisitor, register_visitor
from gate.domain.documents import DocumentType
from gate.domain.errors import ConfigError, RegistryError
from gate.domain.faces import FaceBand
from gate.runtime.bootstrap import Services, bootstrap, build_gate
from gate.runtime.data_key import cipher_of, pending_path, rotate_data_key
from gate.runtime.keyfile import read_data_key, write_data_key
from gate.runtime.settings import Settings, load_settings
from registry.crypto import PersonalDataCipher
from registry.key_rotation import COLUMNS, reencrypt
from registry.models import AuditEvent, Document, FaceSnapshot, Person
from tests.api.test_office_support import RESIDENT_A, Compound, populate
from tests.e2e.conftest import OUTSIDER
from tests.e2e.test_serve import free_port, gate, gate_env
from tests.gate.app.test_face_passages import picture
from tests.registry.test_face_store import enrol, template

ACTOR = Actor("operator", "cli@test", datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
PHONE = "13912345678"
VISITOR = "110101199003077774"
OTHER_KEY = bytes((index * 73 + 11) % 256 for index in range(32))


@pytest.fixture
def compound(services: Services) -> Compound:
    """Persons with documents and phones, a visitor, two face templates, a face snapshot."""
    built = populate(services)
    enrol(services, built.wang, 1, 2)
    gate = build_gate(services)
    visitor = RegisterVisitor("赵六", DocumentType.RESIDENT_ID, OUTSIDER, "1-1-101", "探望父母")
    register_visitor(visitor, actor=ACTOR, units=services.units, pipeline=gate.pipeline)
    form = VisitForm("钱七", PHONE, DocumentType.RESIDENT_ID, VISITOR, "1-1-101", "送货", 2)
    request_visit(form, actor=ACTOR, units=services.units)
    taken = datetime.now(UTC)
    services.face_passages.keep(
        picture(),
        (100, 400, 300, 200),
        lane="main",
        band=FaceBand.UNKNOWN,
        person_ref=None,
        taken_at=taken,
        keep_until=taken + timedelta(hours=72),
    )
    return built


def blobs(services: Services) -> dict[str, list[bytes]]:
    with services.database.session() as session:
        return {
            column.name: list(
                session.scalars(
                    select(column.attribute)
                    .where(column.attribute.is_not(None))
                    .order_by(column.model.id)
                )
            )
            for column in COLUMNS
        }


def what_they_read(services: Services) -> dict[str, list[bytes]]:
    """Every encrypted value decrypted with the services' cipher, and whether the
    document hashes still find their documents."""
    cipher = services.cipher
    read: dict[str, list[bytes]] = {}
    with services.database.session() as session:
        for column in COLUMNS:
            query = select(column.attribute.label("blob"), Person.ref).where(
                column.attribute.is_not(None)
            )
            if column.model is Person:
                query = query.select_from(Person)
            elif column.person_ref:
                query = query.join(Person, Person.id == column.model.person_id)
            else:
                query = select(column.attribute.label("blob"), literal("").label("ref")).where(
                    column.attribute.is_not(None)
                )
            rows = session.execute(query.order_by(column.model.id)).all()
            read[column.name] = [cipher.decrypt_bytes(column.field(row), row.blob) for row in rows]
        found = session.scalar(
            select(Document.id).where(
                Document.number_hash == cipher.lookup_hash("resident_id", RESIDENT_A)
            )
        )
    read["found by document"] = [b"yes" if found else b"no"]
    return read


def test_every_encrypted_column_is_re_encrypted_under_a_new_key(
    compound: Compound, settings: Settings, key_file: Path
) -> None:
    services = compound.services
    before, read_before = blobs(services), what_they_read(services)
    assert all(before.values()), {name: len(values) for name, values in before.items()}
    with services.database.session() as session:
        hashes = sorted(session.scalars(select(Document.number_hash)))
    services.close()

    rotation = rotate_data_key(settings, services.database, actor=ACTOR)

    assert rotation.counts == {name: len(values) for name, values in before.items()}
    assert not pending_path(key_file).exists()
    for path in (key_file, rotation.retired):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert read_data_key(rotation.retired).material == base64.b64decode(
        rotation.retired.read_text()
    )
    rotated = bootstrap(settings)
    try:
        after = blobs(rotated)
        for name, values in after.items():
            assert len(values) == len(before[name]), name
            assert not set(values) & set(before[name]), f"{name} kept an old ciphertext"
        assert what_they_read(rotated) == read_before
        assert read_before["face_templates.template_cipher"] == [template(1), template(2)]
        assert b"13800001234" in read_before["persons.phone_cipher"]
        assert read_before["visitors.number_cipher"] == [OUTSIDER.encode(), VISITOR.encode()]
        assert read_before["visitors.phone_cipher"] == [PHONE.encode()]
        assert read_before["found by document"] == [b"yes"]
        with rotated.database.session() as session:
            assert sorted(session.scalars(select(Document.number_hash))) == hashes
            audit = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "data_key.rotated")
            ).one()
        assert audit.actor == "operator"
        assert audit.detail == rotation.counts
    finally:
        rotated.close()
    # The old key no longer reads the registry: a start with it is refused.
    key_file.write_text(rotation.retired.read_text())
    with pytest.raises(ConfigError, match="does not hold the key") as refused:
        bootstrap(settings)
    assert "\n" not in str(refused.value)


def test_a_rotation_that_fails_part_way_changes_nothing(
    compound: Compound, settings: Settings, key_file: Path
) -> None:
    services = compound.services
    with services.database.session() as session:  # the last value of the last column
        snapshot = session.scalars(select(FaceSnapshot)).one()
        snapshot.image_cipher = PersonalDataCipher(OTHER_KEY).encrypt_bytes("x", b"damaged")
    before, key_text = blobs(services), key_file.read_text()
    with pytest.raises(RegistryError):
        rotate_data_key(settings, services.database, actor=ACTOR)
    assert blobs(services) == before
    assert key_file.read_text() == key_text
    with services.database.session() as session:
        assert session.scalars(select(AuditEvent.action)).all().count("data_key.rotated") == 0
    bootstrap(settings).close()  # the old key is still the key: the start goes ahead
    # The next rotation, once the damaged value is gone, starts afresh and completes.
    with services.database.session() as session:
        session.delete(session.scalars(select(FaceSnapshot)).one())
    assert rotate_data_key(settings, services.database, actor=ACTOR).counts
    bootstrap(settings).close()


def test_a_crash_after_the_commit_is_finished_by_the_next_rotation(
    compound: Compound, settings: Settings, key_file: Path
) -> None:
    services = compound.services
    old = cipher_of(read_data_key(key_file))
    # What a rotation leaves when it dies between its commit and the key file's rename.
    pending = pending_path(key_file)
    write_data_key(pending, OTHER_KEY, lookup=old.lookup_key)
    reencrypt(
        services.database,
        old,
        PersonalDataCipher(OTHER_KEY, lookup_key=old.lookup_key),
        actor=ACTOR,
    )
    with pytest.raises(ConfigError, match="run `gate key rotate` again"):
        bootstrap(settings)
    rotation = rotate_data_key(settings, services.database, actor=ACTOR)
    assert rotation.finished_earlier_run
    assert read_data_key(key_file).material == OTHER_KEY
    assert not pending.exists()
    finished = bootstrap(settings)
    try:
        assert b"13800001234" in what_they_read(finished)["persons.phone_cipher"]
    finally:
        finished.close()


def test_a_wrong_key_is_refused_at_start_in_one_line(
    compound: Compound, settings: Settings, key_file: Path
) -> None:
    key_file.write_text(base64.b64encode(OTHER_KEY).decode())
    with pytest.raises(ConfigError) as refused:
        bootstrap(settings)
    assert refused.value.key == "secrets.key_file"
    assert "does not hold the key the registry's personal data is encrypted under" in str(
        refused.value
    )


def test_a_missing_default_key_is_not_regenerated_over_a_filled_registry(
    compound: Compound, tmp_path: Path, database_url: str, key_file: Path
) -> None:
    data_dir = tmp_path / "var"  # the services' data folder, with its log keys
    default_key = data_dir / "secret.key"
    default_key.write_text(key_file.read_text())
    default_key.chmod(0o600)
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    bootstrap(settings).close()  # the right key in the default place: fine
    default_key.unlink()
    with pytest.raises(ConfigError, match="does not exist, but the registry holds personal data"):
        bootstrap(settings)
    assert not default_key.exists()  # no new key left behind to be backed up by mistake
    with pytest.raises(ConfigError, match="does not exist"):
        bootstrap(settings)


def test_an_empty_registry_takes_any_key(settings: Settings, key_file: Path) -> None:
    key_file.write_text(base64.b64encode(OTHER_KEY).decode())
    bootstrap(settings).close()


def test_a_lookup_line_keeps_the_hashes_of_the_first_key(tmp_path: Path) -> None:
    first = PersonalDataCipher(OTHER_KEY)
    path = tmp_path / "rotated.key"
    write_data_key(path, bytes(range(32)), lookup=first.lookup_key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rotated = cipher_of(read_data_key(path))
    assert rotated.lookup_hash("resident_id", "x") == first.lookup_hash("resident_id", "x")
    blob = rotated.encrypt("phone", "13800001234")
    with pytest.raises(RegistryError):
        first.decrypt("phone", blob)


@pytest.mark.slow
def test_gate_serve_refuses_a_wrong_or_missing_key_in_one_line_and_the_cli_rotates(
    tmp_path: Path,
) -> None:
    env = gate_env(tmp_path, f"sqlite:///{tmp_path / 'gate.db'}")
    assert gate(env, "db", "upgrade").returncode == 0
    settings = load_settings(data_dir=tmp_path / "var", database_url=env["GATE_DATABASE_URL"])
    services = bootstrap(settings)  # generates <data_dir>/secret.key, as a first start does
    populate(services)
    services.close()
    key = tmp_path / "var" / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    right = key.read_text()

    key.write_text(base64.b64encode(OTHER_KEY).decode())
    wrong = gate(env, "serve", "--port", str(free_port()))
    key.unlink()
    missing = gate(env, "serve", "--port", str(free_port()))
    for result, words in (
        (wrong, "does not hold the key the registry's personal data is encrypted under"),
        (missing, "does not exist, but the registry holds personal data"),
    ):
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr
        assert words in errors[0]
        assert str(key) in errors[0]
    assert not key.exists()

    key.write_text(right)
    key.chmod(0o600)
    rotated = gate(env, "key", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 8 values under a new key" in rotated.stdout
    assert "documents.number_cipher 4, persons.phone_cipher 4" in rotated.stdout
    assert key.read_text() != right
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    (retired,) = key.parent.glob("secret.key.retired-*")
    assert retired.read_text() == right
    assert stat.S_IMODE(retired.stat().st_mode) == 0o600
    stats = gate(env, "registry", "stats")
    assert stats.returncode == 0, stats.stderr
