"""Shared fixtures: a clean, migrated database per test on SQLite and on PostgreSQL.

PostgreSQL comes from ``GATE_TEST_POSTGRES_URL`` (default: the local server's ``test``
database). Where no server answers the PostgreSQL half is skipped with the reason,
unless ``GATE_TEST_REQUIRE_POSTGRES=1`` (set by CI), which makes it a failure.
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gate.runtime.bootstrap import Services, bootstrap
from gate.runtime.settings import Settings, load_settings
from registry.crypto import PersonalDataCipher
from registry.database import Database

POSTGRES_URL = os.environ.get(
    "GATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("GATE_TEST_REQUIRE_POSTGRES") == "1"


def _find_shared_data() -> Path:
    """``../shared/data`` beside the checkout, wherever the checkout is cloned to.

    ``GATE_TEST_DATA`` names it explicitly; else the folders above the repository are
    searched, then the workplace's ``/work/shared/data``.
    """
    if os.environ.get("GATE_TEST_DATA"):
        return Path(os.environ["GATE_TEST_DATA"])
    for parent in Path(__file__).resolve().parents[1:]:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return Path("/work/shared/data")


SHARED_DATA = _find_shared_data()
TEST_KEY = bytes(range(32))

ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def shared_data(relative: str) -> Path:
    """A file under ../shared/data, or skip the test saying it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"test data {path} is not on this machine")
    return path


class PostgresServer:
    """Creates and drops throw-away databases on the test server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self._admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def create(self, template: str | None = None) -> str:
        name = f"gate_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        source = f' TEMPLATE "{make_url(template).database}"' if template else ""
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{source}'))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server, or a skip (a failure under CI) when none answers."""
    server = PostgresServer(POSTGRES_URL)
    try:
        with server._admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        server.close()
        message = f"no PostgreSQL at {make_url(POSTGRES_URL).render_as_string()}: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    yield server
    server.close()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "gate.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create()
    database = Database(url)
    database.upgrade()
    database.dispose()
    yield url
    postgres_server.drop(url)


@pytest.fixture(params=ENGINES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path
) -> Iterator[str]:
    """URL of a freshly migrated database of each engine, the test's own."""
    if request.param == "sqlite":
        path = tmp_path / "gate.db"
        shutil.copyfile(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    # A copy of the migrated template: ~50 ms, and nothing a test does can leak.
    url = server.create(template=request.getfixturevalue("_postgres_migrated"))
    yield url
    server.drop(url)


@pytest.fixture(params=ENGINES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a database of each engine with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create()
    yield url
    server.drop(url)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A ``Database`` handle on a clean migrated database."""
    handle = Database(database_url)
    yield handle
    handle.dispose()


@pytest.fixture
def cipher() -> PersonalDataCipher:
    """The personal-data cipher with a fixed test key."""
    return PersonalDataCipher(TEST_KEY)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """A key file holding the test key."""
    path = tmp_path / "test.key"
    path.write_text(base64.b64encode(TEST_KEY).decode())
    path.chmod(0o600)
    return path


@pytest.fixture
def settings(tmp_path: Path, database_url: str, key_file: Path) -> Settings:
    """Settings pointing at the clean database and a data folder of the test's own."""
    return load_settings(
        data_dir=tmp_path / "var", database_url=database_url, secrets={"key_file": key_file}
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """The composition root's services on the clean database."""
    built = bootstrap(settings)
    yield built
    built.close()


@pytest.fixture(autouse=True)
def _no_operator_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the GATE_* variables they set, not the operator's shell."""
    for name in list(os.environ):
        if name.startswith("GATE_") and not name.startswith("GATE_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


# Session-scoped tools that own threads (Playwright's I/O executor) register a predicate
# here for as long as they live; nothing else may leave a thread behind.
THREAD_ALLOWANCES: list[Callable[[threading.Thread], bool]] = []


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running (emulators, captures, pollers)."""
    before = set(threading.enumerate())
    yield
    leaked = [
        thread for thread in threading.enumerate() if thread not in before and thread.is_alive()
    ]
    for thread in leaked:
        thread.join(timeout=2)
    still = [
        thread.name
        for thread in leaked
        if thread.is_alive() and not any(allow(thread) for allow in THREAD_ALLOWANCES)
    ]
    assert not still, f"test leaked threads: {still}"
