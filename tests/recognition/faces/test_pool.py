"""The worker pool: frames are processed in other processes, a full queue drops the oldest."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from gate.domain.device_ports import Frame
from gate.domain.errors import DriverNotAvailable, NoSingleFace
from gate.domain.faces import FaceFrames, FacePhotos, FaceTemplates, FrameFaces
from recognition.faces.images import read_photo
from recognition.faces.matcher import TemplateMatrix
from recognition.faces.pool import FacePool
from recognition.faces.tracker import IouTracker
from tests.recognition.faces.conftest import AGEITGEY, photo
from tests.recognition.faces.workers import CrashingWorker, GatedWorker


def frame(sequence: int, image: np.ndarray | None = None, at: float | None = None) -> Frame:
    image = np.zeros((8, 8, 3), np.uint8) if image is None else image
    return Frame(image, datetime.now(UTC), sequence, float(sequence) if at is None else at)


def test_frames_are_processed_off_the_callers_thread(tmp_path: Path) -> None:
    (tmp_path / "open").touch()
    callback_threads: list[int] = []
    with FacePool(workers=2, worker=partial(GatedWorker, str(tmp_path))) as pool:
        futures = [pool.submit(frame(n)) for n in range(3)]
        for future in futures:
            future.add_done_callback(lambda _f: callback_threads.append(threading.get_ident()))
        results = [future.result(timeout=60) for future in futures]
    assert [r.sequence for r in results] == [0, 1, 2]
    pids = {int(path.name.removeprefix("pid-")) for path in tmp_path.glob("pid-*")}
    assert pids
    assert os.getpid() not in pids
    assert threading.get_ident() not in callback_threads


def test_a_full_queue_drops_the_oldest_frame(tmp_path: Path) -> None:
    with FacePool(workers=1, queue_size=2, worker=partial(GatedWorker, str(tmp_path))) as pool:
        futures = [pool.submit(frame(n)) for n in range(5)]
        # Frame 0 is with the worker (held at the gate); 1 and 2 were the oldest waiting.
        assert [f.cancelled() for f in futures] == [False, True, True, False, False]
        assert not any(f.done() for f in (futures[0], futures[3], futures[4]))
        stats = pool.stats()
        assert (stats.submitted, stats.dropped, stats.waiting, stats.in_flight) == (5, 2, 2, 1)
        (tmp_path / "open").touch()
        done = [futures[n].result(timeout=60).sequence for n in (0, 3, 4)]
        assert done == [0, 3, 4]
        assert pool.stats().processed == 3


def test_closing_cancels_the_waiting_frames(tmp_path: Path) -> None:
    pool = FacePool(workers=1, queue_size=3, worker=partial(GatedWorker, str(tmp_path)))
    futures = [pool.submit(frame(n)) for n in range(3)]
    (tmp_path / "open").touch()
    pool.close()
    assert futures[0].result(timeout=60).sequence == 0
    assert all(f.cancelled() for f in futures[1:])
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(frame(9))


@pytest.mark.slow
def test_a_track_is_encoded_a_few_times_not_every_frame() -> None:
    bgr = np.ascontiguousarray(
        read_photo(photo(f"{AGEITGEY}/examples/obama-720p.jpg").read_bytes())[:, :, ::-1]
    )
    bgr.setflags(write=False)  # as a camera hands it out
    tracker = IouTracker(encodings_per_track=2, reencode_after=0.5)
    results: list[FrameFaces] = []
    with FacePool(workers=2, tracker=tracker) as pool:
        for n in range(8):  # ten frames a second, one after the other
            future: Future[FrameFaces] = pool.submit(frame(n, bgr, at=n * 0.1))
            results.append(future.result(timeout=120))
        assert len(pool.template_of(photo(f"{AGEITGEY}/examples/obama.jpg").read_bytes())) == 512
        with pytest.raises(NoSingleFace):
            pool.template_of(photo(f"{AGEITGEY}/examples/two_people.jpg").read_bytes())
    faces = [face for result in results for face in result.faces]
    assert len(faces) == 8
    assert len({face.track for face in faces}) == 1
    encoded = [n for n, result in enumerate(results) if result.faces[0].template is not None]
    assert encoded == [0, 5]  # when it appeared, and again 0.5 s later; then enough


def test_the_pool_engine_and_matrix_are_the_domains_ports(tmp_path: Path) -> None:
    # mypy checks these assignments against the Protocols of gate.domain.faces.
    (tmp_path / "open").touch()
    with FacePool(workers=1, worker=partial(GatedWorker, str(tmp_path))) as pool:
        frames: FaceFrames = pool
        photos: FacePhotos = pool
        assert frames.submit(frame(0)).result(timeout=60).sequence == 0
        assert len(photos.template_of(b"any photo")) == 512
    templates: FaceTemplates = TemplateMatrix()
    templates.add("t", "p", bytes(512))
    found = templates.match(bytes(512))
    assert found is not None
    assert found.best.distance == 0.0


def test_a_dead_worker_fails_its_frame_and_the_workers_start_again(tmp_path: Path) -> None:
    (tmp_path / "open").touch()
    deadly = np.full((8, 8, 3), 255, np.uint8)
    with FacePool(workers=1, worker=partial(CrashingWorker, str(tmp_path))) as pool:
        with pytest.raises(DriverNotAvailable, match="worker died"):
            pool.submit(frame(0, deadly)).result(timeout=60)
        assert pool.submit(frame(1)).result(timeout=60).sequence == 1
        assert (pool.stats().failed, pool.stats().restarts) == (1, 1)
