"""Uploads that wait for the office to map their columns, between two requests.

An import whose headings were not recognised is not written: the page shows the mapping
step, and the file waits here under a random token, for the session that uploaded it
only, for ``LIFETIME`` at most. The files sit in one private folder (mode 0700) made on
first use; an import that ran, a cancel, a newer upload of the same session, expiry and
the app's shutdown delete them. Only ``MAX_STAGED`` wait at once (the oldest goes).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gate.domain.errors import ImportNeedsMapping

LIFETIME_SECONDS = 30 * 60
MAX_STAGED = 20


@dataclass(frozen=True)
class StagedImport:
    """An upload waiting for its mapping, and what its sheets hold."""

    token: str
    session_id: int
    path: Path
    needs: ImportNeedsMapping
    expires: float  # time.monotonic()


class StagedImports:
    """The waiting uploads of one app; safe to use from the request threads."""

    def __init__(self, lifetime: float = LIFETIME_SECONDS) -> None:
        self._lifetime = lifetime
        self._lock = threading.Lock()
        self._folder: Path | None = None
        self._staged: dict[str, StagedImport] = {}

    def stage(self, upload: Path, *, session_id: int, needs: ImportNeedsMapping) -> StagedImport:
        """Keep ``upload`` (moved here, its name kept) for ``session_id``; its entry."""
        with self._lock:
            self._expire()
            for token, entry in list(self._staged.items()):
                if entry.session_id == session_id:
                    self._remove(token)
            while len(self._staged) >= MAX_STAGED:
                self._remove(min(self._staged.values(), key=lambda e: e.expires).token)
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="gate-staged-"))
            token = secrets.token_urlsafe(24)
            place = self._folder / token
            place.mkdir(mode=0o700)
            path = place / upload.name
            shutil.move(upload, path)
            entry = StagedImport(token, session_id, path, needs, time.monotonic() + self._lifetime)
            self._staged[token] = entry
            return entry

    def get(self, token: str, *, session_id: int) -> StagedImport | None:
        """The session's upload under ``token`` if it still waits, else None."""
        with self._lock:
            self._expire()
            entry = self._staged.get(token)
            if entry is None or entry.session_id != session_id:
                return None
            return entry

    def drop(self, token: str) -> None:
        """Delete the upload under ``token`` (imported or cancelled)."""
        with self._lock:
            self._remove(token)

    def close(self) -> None:
        """Delete every waiting upload and the folder."""
        with self._lock:
            self._staged.clear()
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None

    def _expire(self) -> None:
        now = time.monotonic()
        for token in [t for t, entry in self._staged.items() if entry.expires <= now]:
            self._remove(token)

    def _remove(self, token: str) -> None:
        entry = self._staged.pop(token, None)
        if entry is not None:
            shutil.rmtree(entry.path.parent, ignore_errors=True)
