"""A stand-in for the engine inside the pool's worker processes: it records and it waits.

``GatedWorker`` answers a frame only once the file ``open`` exists in its folder, and
writes the pid of the process it ran in beside it, so a test can hold the workers busy
(to fill the queue) and prove the work ran elsewhere.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gate.domain.faces import Box


class GatedWorker:
    """Answers one face per frame (its box from the frame's first pixel) when let through."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def frame_faces(
        self, frame: Any, skip: Sequence[Box] = ()
    ) -> tuple[list[tuple[Box, bytes | None]], float]:
        deadline = time.monotonic() + 30
        while not (self.folder / "open").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        (self.folder / f"pid-{os.getpid()}").touch()
        box = (0, 10, 10, 0)
        return [(box, None if box in skip else bytes(512))], 0.001

    def template_of(self, photo: bytes) -> bytes:
        return bytes(512)


class CrashingWorker(GatedWorker):
    """Dies, as a crash in dlib would, on a frame whose first pixel is 255."""

    def frame_faces(
        self, frame: Any, skip: Sequence[Box] = ()
    ) -> tuple[list[tuple[Box, bytes | None]], float]:
        if frame[0, 0, 0] == 255:
            os._exit(3)
        return super().frame_faces(frame, skip)
