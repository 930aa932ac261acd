"""A gate process for the crash test: passages in a loop until it is killed.

Its barrier appends one line per opening to a file and fsyncs it, so after a SIGKILL the
file says exactly how many times the barrier really opened.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.ports import BarrierAction
from gate.runtime.bootstrap import bootstrap, build_gate
from gate.runtime.settings import load_settings


class FileBarrier:
    """Records each opening durably, after the pipeline has committed the row."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def open(self, lane: str, direction: Direction) -> BarrierAction:
        os.write(self._fd, f"{lane} {direction.value}\n".encode())
        os.fsync(self._fd)
        return BarrierAction.OPENED


def main() -> None:
    barrier_file, *numbers = sys.argv[1:]
    services = bootstrap(load_settings())
    gate = build_gate(services, barrier=FileBarrier(Path(barrier_file)))
    directions = itertools.cycle((Direction.OUT, Direction.OUT, Direction.IN, Direction.IN))
    for number, direction in zip(itertools.cycle(numbers), directions, strict=False):
        credential = Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, number)
        )
        gate.pipeline.process(credential, lane="main", direction=direction)


if __name__ == "__main__":
    main()
