"""Faces found in worker processes, never on the caller's thread or the event loop.

dlib holds a core for a whole call (40-200 ms a frame), so frames go to a small
``ProcessPoolExecutor`` (forkserver by default: workers start from a clean process, not a
fork of a threaded one), each worker loading the models once. ``submit(frame)`` returns a
``Future`` at once; at most one frame per worker is in flight, and at most ``queue_size``
wait. A full queue drops its oldest frame (its future is cancelled): a gate wants the face
in front of it now, not the backlog. ``asyncio.wrap_future`` turns the future into an
awaitable for the web app.

The pool keeps the IoU tracker (``recognition.faces.tracker``): before a frame goes out it
names the boxes of tracks already encoded enough, and the worker detects those faces
without encoding them again.

    FacePool(workers=2, queue_size=2)
      submit(frame) -> Future[FrameFaces]    (cancelled if dropped)
      template_of(photo) -> bytes            (an enrolment photo, in a worker)
      stats() -> PoolStats                   (submitted, dropped, processed, failed, restarts)

A worker that dies (dlib crashing on a frame) fails the frames it held with
``DriverNotAvailable`` and the workers are started again for the next frames.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar, cast

from gate.app.face_ports import EnrolmentFace
from gate.domain.device_ports import Frame
from gate.domain.errors import DriverNotAvailable, GateError
from gate.domain.faces import Box, FrameFaces
from recognition.faces.engine import EngineSettings, FaceEngine
from recognition.faces.tracker import IouTracker

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


class FrameWorker(Protocol):
    """What runs inside a worker process (``FaceEngine``; tests give a recording one)."""

    def frame_faces(
        self, frame: Any, skip: Sequence[Box] = ()
    ) -> tuple[list[tuple[Box, bytes | None]], float]:
        """The faces in ``frame``, templates for those not in ``skip``, and the seconds."""
        ...

    def template_of(self, photo: bytes) -> bytes:
        """The template of the one face in ``photo``."""
        ...


class EnrolmentWorker(FrameWorker, Protocol):
    """A worker that also runs the enrolment path (``FaceEngine``)."""

    def enrolment_face(self, photo: bytes) -> EnrolmentFace:
        """The one face of ``photo`` through the quality gate."""
        ...

    def enrolment_frame(self, frame: Any) -> EnrolmentFace:
        """The one face of a camera frame through the quality gate."""
        ...


@dataclass(frozen=True)
class PoolStats:
    """Counts since the pool started."""

    submitted: int
    dropped: int
    processed: int
    failed: int
    waiting: int
    in_flight: int
    restarts: int  # the workers were started again after one died


_worker: FrameWorker | None = None
# The workers yield the CPU to the service's own process: a card or a QR pass at the lane
# is decided first, a face waits a few milliseconds (benchmarks/bench_face_lane.py).
WORKER_NICENESS = 10


def _start_worker(factory: Callable[[], FrameWorker]) -> None:
    global _worker  # one engine per worker process, built once
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not permitted here: the workers run at the service's priority
        logger.warning("face worker: could not lower its priority")
    _worker = factory()


def _frame_job(image: Any, skip: Sequence[Box]) -> tuple[list[tuple[Box, bytes | None]], float]:
    assert _worker is not None
    return _worker.frame_faces(image, skip)


def _photo_job(photo: bytes) -> bytes:
    assert _worker is not None
    return _worker.template_of(photo)


def _enrolment_job(photo: bytes) -> EnrolmentFace:
    assert _worker is not None
    return cast(EnrolmentWorker, _worker).enrolment_face(photo)


def _enrolment_frame_job(image: Any) -> EnrolmentFace:
    assert _worker is not None
    return cast(EnrolmentWorker, _worker).enrolment_frame(image)


class FacePool:
    """Worker processes that find and encode faces (see the module docstring)."""

    def __init__(
        self,
        *,
        workers: int = 2,
        queue_size: int = 2,
        settings: EngineSettings | None = None,
        worker: Callable[[], FrameWorker] | None = None,
        tracker: IouTracker | None = None,
        context: str = "forkserver",
    ) -> None:
        factory = worker or partial(FaceEngine, settings or EngineSettings())
        self.workers = workers
        self.queue_size = queue_size
        self._tracker = tracker or IouTracker()
        self._start = partial(
            ProcessPoolExecutor,
            max_workers=workers,
            mp_context=multiprocessing.get_context(context),
            initializer=_start_worker,
            initargs=(factory,),
        )
        self._executor = self._start()
        self._broken: list[ProcessPoolExecutor] = []  # replaced, shut down at close
        self._restarts = 0
        self._waiting: deque[tuple[Frame, Future[FrameFaces]]] = deque()
        self._in_flight = 0
        self._lock = threading.RLock()  # a job's callback may run inside submit()
        self._closed = False
        self._submitted = self._dropped = self._processed = self._failed = 0

    def submit(self, frame: Frame) -> Future[FrameFaces]:
        """Queue ``frame`` and return at once; a full queue drops (cancels) the oldest."""
        result: Future[FrameFaces] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the face pool is closed")
            self._submitted += 1
            self._waiting.append((frame, result))
            while len(self._waiting) > self.queue_size:
                _old, dropped = self._waiting.popleft()
                dropped.cancel()
                self._dropped += 1
            self._dispatch()
        return result

    def template_of(self, photo: bytes) -> bytes:
        """The template of an enrolment photo, computed in a worker; ``FaceImageRejected``."""
        return self._photo(_photo_job, photo)

    def enrolment_face(self, photo: bytes) -> EnrolmentFace:
        """An enrolment photo through the quality gate, in a worker; ``FaceImageRejected``."""
        return self._photo(_enrolment_job, photo)

    def enrolment_frame(self, image: Any) -> EnrolmentFace:
        """A camera frame through the enrolment quality gate, in a worker."""
        return self._photo(_enrolment_frame_job, image)

    def _photo(self, job_function: Callable[[Any], _T], photo: Any) -> _T:
        with self._lock:
            executor = self._executor
            job = executor.submit(job_function, photo)
        try:
            return job.result()
        except BrokenProcessPool as exc:
            with self._lock:
                self._replace(executor)
            raise DriverNotAvailable(f"a face worker died: {exc}") from exc

    def stats(self) -> PoolStats:
        """The pool's counts."""
        with self._lock:
            return PoolStats(
                self._submitted,
                self._dropped,
                self._processed,
                self._failed,
                len(self._waiting),
                self._in_flight,
                self._restarts,
            )

    def close(self) -> None:
        """Cancel the waiting frames, let the ones in flight finish, stop the workers."""
        with self._lock:
            self._closed = True
            while self._waiting:
                self._waiting.popleft()[1].cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)
        for broken in self._broken:
            broken.shutdown(wait=True)

    def __enter__(self) -> FacePool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _dispatch(self) -> None:
        while self._in_flight < self.workers and self._waiting and not self._closed:
            frame, result = self._waiting.popleft()
            if not result.set_running_or_notify_cancel():
                continue  # the caller cancelled it while it waited
            skip = self._tracker.plan(frame.monotonic)
            executor = self._executor
            try:
                job = executor.submit(_frame_job, frame.image, skip)
            except BrokenProcessPool as exc:
                self._replace(executor)
                self._failed += 1
                result.set_exception(DriverNotAvailable(f"a face worker died: {exc}"))
                continue
            self._in_flight += 1
            job.add_done_callback(partial(self._finished, executor, frame, result))

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Start new workers in place of a pool one of whose processes died (once per pool)."""
        if broken is not self._executor or self._closed:
            return
        logger.warning("a face worker died; starting the workers again")
        self._broken.append(broken)
        broken.shutdown(wait=False, cancel_futures=True)
        self._executor = self._start()
        self._restarts += 1

    def _finished(
        self,
        executor: ProcessPoolExecutor,
        frame: Frame,
        result: Future[FrameFaces],
        job: Future[tuple[list[tuple[Box, bytes | None]], float]],
    ) -> None:
        with self._lock:
            self._in_flight -= 1
            try:
                detections, seconds = job.result()
            except GateError as exc:
                self._failed += 1
                result.set_exception(exc)
            except BrokenProcessPool as exc:
                self._failed += 1
                result.set_exception(DriverNotAvailable(f"a face worker died: {exc}"))
                self._replace(executor)
            except BaseException as exc:  # a frame the engine could not take
                self._failed += 1
                logger.warning("face frame failed", extra={"sequence": frame.sequence})
                result.set_exception(exc)
            else:
                self._processed += 1
                faces = self._tracker.update(frame.monotonic, detections)
                result.set_result(FrameFaces(frame.sequence, tuple(faces), seconds))
            self._dispatch()
