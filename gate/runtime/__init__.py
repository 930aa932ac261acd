"""The composition root, settings and the CLI: the only part of ``gate`` that imports adapters.

Two process-wide choices are made here, before the adapters this package wires are
imported and before any thread starts:

- **OpenBLAS runs single-threaded** unless the operator says otherwise. The face
  gallery's one matrix-vector product is the service's only BLAS call; on a gate's two
  cores, shared with the face workers and the lanes, a second BLAS thread waits for a
  core (``benchmarks/bench_faces.py`` at load 5.6: 10,000 templates p99 8.1 ms with the
  default threads, 0.18 ms with one; 50,000 p50 7.9 ms against 0.9 ms; docs/faces.md).
  A gallery of 100,000 or more is cut across the cores by the matcher itself.
- **glibc keeps at most two malloc arenas** (``M_ARENA_MAX``), unless ``MALLOC_ARENA_MAX``
  is set. By default glibc gives threads up to eight arenas a core, and each keeps the
  memory its thread once freed. The web server's threads pass pages of the district feed
  and the terminals' events, so the serving process grew from about 240 to 500 MiB in
  the first 20 minutes of the load benchmark; with two arenas it held at about 225 MiB
  (``benchmarks/bench_load.py --soak-minutes``, docs/reliability.md).
"""

import ctypes
import ctypes.util
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def _limit_malloc_arenas() -> bool:
    """Cap glibc's arenas at ``ARENAS``; False where that is not glibc or already chosen."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False  # the operator's choice, which glibc read at start
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(M_ARENA_MAX, ARENAS))


MALLOC_ARENAS_LIMITED = _limit_malloc_arenas()
