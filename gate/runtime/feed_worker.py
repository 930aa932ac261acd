"""The district feed read and encoded in worker processes, not in the lanes' process.

``gate serve`` runs the lanes and the web app in one process. A district pulling the
feed flat out used to have its pages read and encoded there: Python work under the
interpreter lock, which a lane's decision waited behind at every database call (decision
p99 four to five times idle, ``docs/reliability.md``, Load). ``FeedWorkers`` does that
work in long-lived worker processes (forked from the forkserver, at a lower priority like
the face workers): the serving process receives finished pages of JSON lines through a
pipe and only copies them to the socket.

One request at a time per worker, over a duplex pipe:

- server → worker: ``(after, limit, profile, documents)``;
- worker → server: ``("page", FeedLines)`` for each page, then ``("end",)``; or
  ``("refused", code, params)`` / ``("failed", error name)`` in place of a page;
- server → worker after each page: ``True`` (go on) or ``False`` (stop: the caller is
  gone or wanted the first page only), answered with ``("end",)``.

The server says "go on" as soon as a page arrives, so the worker encodes the next page
while this one is being sent; at most one page waits in the pipe. A worker that dies, or
does not answer in ``answer_seconds``, is killed and replaced at the next request; its
request fails as ``RegistryUnavailable`` (503 before the answer started, a cut stream
after: the district resumes from the last line's ``seq``, as the cursor contract says).
A worker is also replaced after ``streams_per_worker`` answers, which hands the memory
its allocator kept for large pages back to the system.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from gate.app.district_feed import (
    MAX_PAGE,
    CompoundAddress,
    FeedLines,
    FeedProfile,
    LocalFeedLines,
)
from gate.domain.errors import ActionRefused, RegistryUnavailable
from gate.runtime.keyfile import DataKey

logger = logging.getLogger(__name__)

NICENESS = 10  # below the lanes' process, as the face workers
ANSWER_SECONDS = 60.0  # a page not come in this long: the worker is taken as hung
STREAMS_PER_WORKER = 500


@dataclass(frozen=True)
class FeedSetup:
    """What a worker opens: the registry, and the compound and key its items are made with."""

    database_url: str
    compound: CompoundAddress
    data_key: DataKey  # through the pipe to our own child, never to a file
    page: int = MAX_PAGE  # rows a page (smaller in tests, to see many pages)


@dataclass
class _Worker:
    process: Any  # multiprocessing's Process (forkserver context)
    pipe: Connection
    streams: int = 0
    broken: bool = False  # died or hung: killed, never reused

    def stop(self) -> None:
        """End the process (it holds no state worth a graceful exit)."""
        try:
            self.pipe.close()
        finally:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(5)
            self.process.close()


@dataclass
class FeedWorkers:
    """``FeedLineSource`` in ``workers`` processes; started on first use, ``close`` ends them.

    A request waits for a free worker: with ``workers`` answers in flight the next one
    queues (the district's key quota bounds how many come).
    """

    setup: FeedSetup
    workers: int = 1
    answer_seconds: float = ANSWER_SECONDS
    streams_per_worker: int = STREAMS_PER_WORKER
    _idle: queue.SimpleQueue[_Worker | None] = field(default_factory=queue.SimpleQueue)
    _slots: threading.BoundedSemaphore = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _all: list[_Worker] = field(default_factory=list)
    _closed: bool = False
    restarts: int = 0  # workers replaced after dying or hanging (not after their quota)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("FeedWorkers needs at least one worker")
        self._slots = threading.BoundedSemaphore(self.workers)

    def pages(
        self, after: int, limit: int, *, profile: FeedProfile, documents: bool
    ) -> Generator[FeedLines, None, None]:
        """Up to ``limit`` passages after ``after``, a page at a time, from a worker."""
        with self._slots:
            worker = self._take()
            ready = False  # the worker has ended this answer and waits for the next
            try:
                worker.pipe.send((after, limit, profile.value, documents))
                while True:
                    message = self._receive(worker)
                    if message[0] == "page":
                        worker.pipe.send(True)
                        yield message[1]
                        continue
                    ready = True  # every other message ends the worker's answer
                    if message[0] == "end":
                        return
                    if message[0] == "refused":
                        raise ActionRefused(message[1], **message[2])
                    raise RegistryUnavailable(f"the feed's worker failed ({message[1]})")
            finally:
                if not ready and not worker.broken:
                    ready = self._drain(worker)
                self._give_back(worker, ready)

    def _receive(self, worker: _Worker) -> tuple[Any, ...]:
        """The worker's next message; ``RegistryUnavailable`` (and broken) if none comes."""
        try:
            if not worker.pipe.poll(self.answer_seconds):
                raise RegistryUnavailable("the feed's worker did not answer in time")
            message: tuple[Any, ...] = worker.pipe.recv()
        except (EOFError, OSError) as gone:
            worker.broken = True
            raise RegistryUnavailable("the feed's worker ended unexpectedly") from gone
        except RegistryUnavailable:
            worker.broken = True
            raise
        return message

    def _drain(self, worker: _Worker) -> bool:
        """Stop an answer left early; True if the worker is ready for the next request."""
        try:
            while True:
                message = self._receive(worker)
                if message[0] != "page":
                    return True
                worker.pipe.send(False)
        except (RegistryUnavailable, OSError):
            return False

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RegistryUnavailable("the service is stopping")
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            worker = None
        if worker is not None and worker.process.is_alive():
            return worker
        if worker is not None:
            self._forget(worker)
        return self._start()

    def _give_back(self, worker: _Worker, clean: bool) -> None:
        worker.streams += 1
        if not clean:
            self.restarts += 1
            logger.warning("feed worker replaced", extra={"pid": worker.process.pid})
        if clean and worker.streams < self.streams_per_worker and not self._closed:
            self._idle.put(worker)
        else:
            self._forget(worker)

    def _start(self) -> _Worker:
        context = multiprocessing.get_context("forkserver")
        server_end, worker_end = context.Pipe(duplex=True)
        process = context.Process(
            target=serve_feed, args=(worker_end, self.setup), name="gate-feed", daemon=True
        )
        process.start()
        worker_end.close()
        worker = _Worker(process, server_end)
        with self._lock:
            self._all.append(worker)
        return worker

    def _forget(self, worker: _Worker) -> None:
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        worker.stop()

    def close(self) -> None:
        """End every worker (those serving an answer too: the service is stopping)."""
        with self._lock:
            self._closed = True
            workers, self._all = self._all, []
        for worker in workers:
            worker.stop()


def serve_feed(pipe: Connection, setup: FeedSetup) -> None:
    """The worker: open the registry, then answer requests until the pipe closes."""
    os.nice(NICENESS)
    from gate.runtime.bootstrap import district_pseudonyms
    from gate.runtime.data_key import cipher_of
    from registry.database import Database
    from registry.feed_reader import SqlFeedReader

    database = Database(setup.database_url)
    pseudonym = district_pseudonyms(cipher_of(setup.data_key))
    source = LocalFeedLines(SqlFeedReader(database), setup.compound, pseudonym, setup.page)
    try:
        while True:
            try:
                after, limit, profile, documents = pipe.recv()
            except (EOFError, OSError):
                return  # the service closed its end
            _answer_one(pipe, source, after, limit, FeedProfile(profile), documents)
    finally:
        database.dispose()


def _answer_one(
    pipe: Connection,
    source: LocalFeedLines,
    after: int,
    limit: int,
    profile: FeedProfile,
    documents: bool,
) -> None:
    try:
        for page in source.pages(after, limit, profile=profile, documents=documents):
            pipe.send(("page", page))
            if not pipe.recv():
                break
    except ActionRefused as refused:
        pipe.send(("refused", refused.code, dict(refused.params)))
        return
    except Exception as exc:  # the database gone, a row it cannot read: the server says 503
        logger.warning("feed worker failed", exc_info=True)
        pipe.send(("failed", type(exc).__name__))
        return
    pipe.send(("end",))
