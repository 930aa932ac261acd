"""The anchor file: signed heads of the passage log, appended to a file outside the database.

    <data folder>/log-anchors.jsonl     one anchor a line (``gate.domain.anchors``), appended
    <data folder>/log-keys/anchor.key   mode 0600: base64 of the 32-byte Ed25519 seed

Lines are only ever appended (``O_APPEND``, one write, fsync, under an exclusive
``flock`` so two processes never give out one number twice); nothing rewrites the file.
The gate's own user could still truncate it, so the file is the local copy: the latest
anchor also travels with the hub push and the district feed, where the gate cannot take
it back (``docs/reliability.md``). ``AnchorLog.read`` checks every line's signature
against the key in the data folder, not the key a line names.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gate.domain.anchors import Anchor, AnchorInvalid, parse_anchor
from gate.domain.errors import RegistryError
from registry.chain_check import log_head
from registry.database import Database

logger = logging.getLogger(__name__)

_TAIL_BYTES = 16384  # the latest anchor is in the last few lines (one is about 450 bytes)


class LogAnchorRefused(RegistryError):
    """An anchor that would hide a cut (the log is shorter than the latest anchor)."""


class AnchorKey:
    """The Ed25519 key that signs anchors (the private half never leaves this object)."""

    def __init__(self, seed: bytes) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self._public = self._private.public_key()
        self.public_hex = self._public.public_bytes_raw().hex()

    def sign(self, anchor: Anchor) -> Anchor:
        """``anchor`` signed."""
        return anchor.signed(self._private.sign(anchor.message()).hex())

    def verifies(self, anchor: Anchor) -> bool:
        """True if this key signed ``anchor`` as it stands."""
        try:
            self._public.verify(bytes.fromhex(anchor.signature), anchor.message())
        except (InvalidSignature, ValueError):
            return False
        return anchor.key == self.public_hex

    def __repr__(self) -> str:
        return f"AnchorKey(public={self.public_hex[:16]}...)"


@dataclass(frozen=True)
class AnchorRead:
    """The anchors of the file that verify, and what is wrong with the lines that don't."""

    anchors: list[Anchor]
    problems: list[str] = field(default_factory=list)
    torn: bool = False  # the last line is cut short (a crash mid-write): no anchor, no harm


class AnchorLog:
    """The append-only anchor file of one compound's gate."""

    def __init__(self, path: Path, key: AnchorKey, *, compound: str) -> None:
        self.path = path
        self._key = key
        self._compound = compound

    def read(self) -> AnchorRead:
        """Every line, checked: signature, compound, numbering."""
        try:
            lines = self.path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return AnchorRead([])
        anchors: list[Anchor] = []
        problems: list[str] = []
        torn = False
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            problem, anchor = self._check(line, expected=len(anchors) + 1)
            if problem is not None and number == len(lines) and anchor is None:
                torn = True  # not newline-terminated: the write never finished
            elif problem is not None:
                problems.append(f"anchor file line {number}: {problem}")
            if anchor is not None:
                anchors.append(anchor)
        return AnchorRead(anchors, problems, torn)

    def check(self, text: str | bytes) -> Anchor:
        """An anchor copied back from the hub or the district, checked (``AnchorInvalid``)."""
        anchor = parse_anchor(text)
        if not self._key.verifies(anchor) or anchor.compound != self._compound:
            raise AnchorInvalid(f"anchor {anchor.n} is not signed by this gate's anchor key")
        return anchor

    def _check(self, line: bytes, *, expected: int) -> tuple[str | None, Anchor | None]:
        try:
            anchor = parse_anchor(line)
        except AnchorInvalid as exc:
            return f"not an anchor ({exc})", None
        if not self._key.verifies(anchor):
            return f"anchor {anchor.n}: the signature does not verify with this gate's key", None
        if anchor.compound != self._compound:
            return f"anchor {anchor.n} is of compound {anchor.compound}", None
        if anchor.n != expected:
            return f"anchor {anchor.n} where {expected} was expected (a line removed?)", anchor
        return None, anchor

    def latest(self) -> Anchor | None:
        """The last anchor in the file that verifies (reads only the file's end)."""
        try:
            with self.path.open("rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - _TAIL_BYTES))
                tail = handle.read()
        except FileNotFoundError:
            return None
        for line in reversed(tail.split(b"\n")):
            try:
                anchor = parse_anchor(line)
            except AnchorInvalid:
                continue
            if self._key.verifies(anchor) and anchor.compound == self._compound:
                return anchor
        return None

    def latest_json(self) -> bytes | None:
        """The latest anchor as one line of JSON, for the feed and the hub push."""
        anchor = self.latest()
        return None if anchor is None else anchor.to_json().encode("ascii")

    def append(self, make: Callable[[Anchor | None], Anchor | None]) -> Anchor | None:
        """Append what ``make`` builds from the latest anchor (None: nothing), under the lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            unsigned = make(self.latest())
            if unsigned is None:
                return None
            anchor = self._key.sign(unsigned)
            os.write(descriptor, anchor.to_json().encode("ascii") + b"\n")
            os.fsync(descriptor)
            return anchor
        finally:
            os.close(descriptor)  # releases the lock


class Anchorer:
    """Writes an anchor of the log's head every ``every`` passages or ``interval``."""

    def __init__(
        self,
        database: Database,
        log: AnchorLog,
        *,
        compound: str,
        chain_key_id: str,
        public_key: str,
        every: int,
        interval: timedelta,
    ) -> None:
        self._database = database
        self.log = log
        self._compound = compound
        self._chain_key_id = chain_key_id
        self._public_key = public_key
        self._every = every
        self._interval = interval

    def anchor_now(self, now: datetime) -> Anchor | None:
        """Anchor the head unless the latest anchor holds it already; the anchor written."""
        return self._write(now, due=lambda latest, seq: True)

    def maybe_anchor(self, now: datetime) -> Anchor | None:
        """Anchor the head if ``every`` passages or ``interval`` went by since the last."""

        def due(latest: Anchor, seq: int) -> bool:
            elapsed = now - datetime.fromisoformat(latest.at)
            return seq - latest.seq >= self._every or elapsed >= self._interval

        return self._write(now, due=due)

    def anchor_purge(self, now: datetime, *, purged_to: int, purged_hash: str) -> Anchor:
        """Sign the checkpoint of a purge about to delete rows 1..``purged_to`` (row
        ``purged_to`` hashing to ``purged_hash``) with the head; ``LogAnchorRefused`` if the
        log is shorter than the latest anchor (a cut: nothing is purged over it)."""
        anchor = self._write(now, due=lambda latest, seq: True, purge=(purged_to, purged_hash))
        if anchor is None:
            raise LogAnchorRefused(
                "the passage log is shorter than its latest anchor: run `gate log verify`"
            )
        return anchor

    def _write(
        self,
        now: datetime,
        *,
        due: Callable[[Anchor, int], bool],
        purge: tuple[int, str] | None = None,
    ) -> Anchor | None:
        head = log_head(self._database)

        def make(latest: Anchor | None) -> Anchor | None:
            if latest is not None and (
                # Never sign a log shorter than an anchor: a cut stays visible.
                latest.seq > head.seq
                or (purge is None and ((latest.seq, latest.row_hash) == (head.seq, head.row_hash)))
                or not due(latest, head.seq)
            ):
                return None
            # A purge checkpoint is carried on by every later anchor, so the latest one,
            # wherever a copy of it went, says where the log now starts.
            if purge is not None:
                purged_to, purged_hash = purge
            elif latest is not None:
                purged_to, purged_hash = latest.purged_to, latest.purged_hash
            else:
                purged_to, purged_hash = 0, ""
            return Anchor.made(
                n=1 if latest is None else latest.n + 1,
                compound=self._compound,
                seq=head.seq,
                row_hash=head.row_hash,
                at=now,
                keyed_from=head.keyed_from,
                chain_key_id=self._chain_key_id,
                key=self._public_key,
                purged_to=purged_to,
                purged_hash=purged_hash,
            )

        anchor = self.log.append(make)
        if anchor is not None:
            logger.info("anchored the passage log: anchor %d at seq %d", anchor.n, anchor.seq)
        return anchor
