"""The service's log lines through the real configuration: JSON lines, the mask, rotation."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from gate.runtime.logging_setup import configure_logging, remove_logging
from gate.runtime.settings import Settings, load_settings

DOCUMENT = "11010519491231002X"
PHONE = "13812345678"


@pytest.fixture
def configured(tmp_path: Path) -> Iterator[Any]:
    """A function that sets logging up from ``[logging]`` settings; undone at the end."""
    level = logging.getLogger().level

    def configure(**section: Any) -> Settings:
        settings = load_settings(data_dir=tmp_path, logging=section)
        configure_logging(settings, to_file=True, force=True)
        return settings

    yield configure
    remove_logging()
    logging.getLogger().setLevel(level)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_json_lines_carry_utc_time_level_logger_and_extras_masked(
    configured: Any, tmp_path: Path
) -> None:
    log_file = tmp_path / "logs" / "gate.log"
    configured(format="json", file=str(log_file))
    log = logging.getLogger("gate.test.lane")
    log.info("card %s read at lane %s", DOCUMENT, "main", extra={"lane": "main", "seq": 7})
    log.warning("hub https://gate:hunter22@hub.example/x down; host says call %s", PHONE)
    try:
        raise RuntimeError(f"no person with {DOCUMENT}")
    except RuntimeError:
        log.exception("lookup failed", extra={"phone": PHONE})
    first, second, third = _lines(log_file)
    assert first["level"] == "INFO"
    assert first["logger"] == "gate.test.lane"
    assert first["message"] == "card **************002X read at lane main"
    assert first["ts"].endswith("Z")
    assert first["ts"][10] == "T"
    assert (first["lane"], first["seq"]) == ("main", 7)
    assert second["message"] == (
        "hub https://gate:***@hub.example/x down; host says call *******5678"
    )
    assert third["level"] == "ERROR"
    assert "RuntimeError: no person with **************002X" in third["exc"]
    assert third["phone"] == "*******5678"
    text = log_file.read_text(encoding="utf-8")
    for secret in (DOCUMENT, PHONE, "hunter22"):
        assert secret not in text


def test_text_lines_are_masked_too(configured: Any, tmp_path: Path) -> None:
    log_file = tmp_path / "gate.log"
    configured(file=str(log_file))
    logging.getLogger("gate.test").error("visitor %s, phone %s", DOCUMENT, PHONE)
    (line,) = log_file.read_text(encoding="utf-8").splitlines()
    assert line.endswith(" ERROR gate.test: visitor **************002X, phone *******5678")
    assert line[:24].endswith("Z")


def test_an_access_line_shows_no_query_value(configured: Any, tmp_path: Path) -> None:
    log_file = tmp_path / "gate.log"
    # A uvicorn started earlier in this process with its own logging config (as the
    # in-process test servers are) gave uvicorn.access a handler of its own that did not
    # propagate: its lines bypassed the file and the mask.
    uvicorn.Config(app=lambda *_: None)
    configured(format="json", file=str(log_file))
    access = logging.getLogger("uvicorn.access")
    access.info(
        '%s - "%s %s HTTP/%s" %d', "10.0.0.5:5123", "GET", "/terminal/search?q=王小明", "1.1", 200
    )
    (line,) = _lines(log_file)
    assert line["message"] == '10.0.0.5:5123 - "GET /terminal/search?q=*** HTTP/1.1" 200'


def test_the_file_rotates_at_its_size_keeping_its_backups(configured: Any, tmp_path: Path) -> None:
    log_file = tmp_path / "gate.log"
    configured(file=str(log_file), max_mb=0.002, backups=2)  # about 2 KB
    log = logging.getLogger("gate.test")
    for index in range(200):
        log.info("line %03d %s", index, "x" * 40)
    files = sorted(path.name for path in tmp_path.glob("gate.log*"))
    assert files == ["gate.log", "gate.log.1", "gate.log.2"]
    for path in tmp_path.glob("gate.log*"):
        assert path.stat().st_size <= 2100
    assert "line 199" in log_file.read_text(encoding="utf-8")


def test_logging_set_up_by_someone_else_is_left_alone(tmp_path: Path) -> None:
    # pytest's own capture handlers are on the root logger here, as an embedding app's are.
    settings = load_settings(data_dir=tmp_path, logging={"file": str(tmp_path / "gate.log")})
    before = list(logging.getLogger().handlers)
    configure_logging(settings, to_file=True)
    assert logging.getLogger().handlers == before
    assert not (tmp_path / "gate.log").exists()


def test_an_unknown_format_fails_naming_the_key(tmp_path: Path) -> None:
    from gate.domain.errors import ConfigError

    with pytest.raises(ConfigError, match=r"logging\.format"):
        load_settings(data_dir=tmp_path, logging={"format": "xml"})


def test_under_systemd_stderr_lines_carry_the_journal_priority(
    configured: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = (tmp_path / "journal").open("w", encoding="utf-8")  # stands in for the stream
    status = os.fstat(journal.fileno())
    monkeypatch.setattr(sys, "stderr", journal)
    monkeypatch.setenv("JOURNAL_STREAM", f"{status.st_dev}:{status.st_ino}")
    try:
        configured()  # no file: stderr, which is the journal
        logging.getLogger("gate.test").error("reader on %s lost, card %s", "/dev/ttyUSB0", DOCUMENT)
        logging.getLogger("gate.test").info("back")
    finally:
        remove_logging()
        journal.close()
    assert (tmp_path / "journal").read_text(encoding="utf-8").splitlines() == [
        "<3>ERROR gate.test: reader on /dev/ttyUSB0 lost, card **************002X",
        "<6>INFO gate.test: back",
    ]
