"""The composition root, settings and the CLI: the only part of ``gate`` that imports adapters.

One process-wide choice is made here, before numpy is first imported (by the adapters
this package wires): OpenBLAS runs single-threaded unless the operator says otherwise. The
face gallery's one matrix-vector product is the service's only BLAS call; on a gate's
two cores, shared with the face workers and the lanes, a second BLAS thread waits for a
core (``benchmarks/bench_faces.py`` at load 5.6: 10,000 templates p99 8.1 ms with the
default threads, 0.18 ms with one; 50,000 p50 7.9 ms against 0.9 ms; docs/faces.md).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
