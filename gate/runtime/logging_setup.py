"""The service's log lines: one place sets level, format, destination and the mask.

Every record goes through ``RedactingFilter`` on each handler before anything is written:
its message, traceback and string extras pass ``gate.domain.redaction.mask_personal``
(URL credentials, document numbers, mobile numbers, tokens), and an access log line's
query values are masked whatever their name (a search box, a one-time code).

Where the lines go (``[logging]``):

- no ``file``: stderr. Under systemd stderr already is the journal (``JOURNAL_STREAM``
  names it): each line then starts with its syslog priority (``<3>`` for an error), which
  journald strips and keeps as the entry's priority, and leaves the time to the journal.
  journald rotates by its own limits (``SystemMaxUse=`` in journald.conf).
- ``file``: a ``RotatingFileHandler`` at ``max_mb``, ``backups`` kept. Only ``gate serve``
  writes the file (two processes rotating one file lose lines); other commands keep stderr.

``format = "json"``: one object a line, ``ts`` (UTC, ISO 8601), ``level``, ``logger``,
``message``, the record's ``extra=`` fields, and ``exc`` for a traceback.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from datetime import UTC, datetime
from typing import Any

from gate.domain.redaction import mask_personal, mask_query_values
from gate.runtime.settings import LoggingSettings, Settings

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_SYSLOG_PRIORITY = {"DEBUG": 7, "INFO": 6, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}
_OURS = "_gate_handler"  # marks the handlers this module installed


class RedactingFilter(logging.Filter):
    """Masks personal data and credentials in a record before a handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) >= 3:
            # (client, method, target, http version, status): the target's query is theirs
            record.args = (*args[:2], mask_query_values(str(args[2])), *args[3:])
        record.msg = mask_personal(record.getMessage())
        record.args = None
        record.__dict__.pop("color_message", None)  # uvicorn's copy of msg with ANSI colours
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, mask_personal(value))
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object a record: ts (UTC), level, logger, message, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-12-01T21:48:41.123Z INFO gate.app.x: message`` (the time in UTC)."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return f"{_utc(record.created)} {super().format(record)}"


class JournalPrefix(logging.Formatter):
    """Another formatter's line with the syslog priority journald reads (``<6>...``)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        priority = _SYSLOG_PRIORITY.get(record.levelname, 6)
        return f"<{priority}>{self._inner.format(record)}"


def _utc(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stderr_is_journal() -> bool:
    """Whether stderr is systemd's journal stream (``JOURNAL_STREAM=<dev>:<inode>``)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = stream.partition(":")
    try:
        status = os.fstat(sys.stderr.fileno())
        return (status.st_dev, status.st_ino) == (int(device), int(inode))
    except (OSError, ValueError, AttributeError):
        return False


def build_handler(config: LoggingSettings, *, to_file: bool) -> logging.Handler:
    """The handler ``config`` asks for, with the mask and the format on it."""
    formatter: logging.Formatter = (
        JsonLinesFormatter() if config.format == "json" else TextFormatter()
    )
    handler: logging.Handler
    if to_file and config.file is not None:
        config.file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            config.file,
            maxBytes=int(config.max_mb * 1024 * 1024),
            backupCount=config.backups,
            encoding="utf-8",
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
        if stderr_is_journal():
            if config.format == "text":  # the journal has the time already
                formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
            formatter = JournalPrefix(formatter)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    setattr(handler, _OURS, True)
    return handler


def configure_logging(settings: Settings, *, to_file: bool = False, force: bool = False) -> None:
    """Set the root logger up from the settings (``to_file``: the service, which owns the file).

    Logging somebody else set up (pytest, a program embedding the gate) is left alone
    unless ``force``; this module's own handlers are replaced, so the last call wins.
    """
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, _OURS, False)]
    if root.handlers and not ours and not force:
        return
    remove_logging()
    root.addHandler(build_handler(settings.logging, to_file=to_file))
    root.setLevel(settings.log_level)
    # Alembic narrates every schema check at INFO; only its warnings matter here.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    # uvicorn's lines come through ours (format, file, mask): a uvicorn that was started
    # with its own logging config in this process earlier left handlers that bypass it.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        served = logging.getLogger(name)
        for handler in list(served.handlers):
            served.removeHandler(handler)
        served.propagate = True
        served.setLevel(logging.NOTSET)


def remove_logging() -> None:
    """Take this module's handlers off the root logger and close them."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
