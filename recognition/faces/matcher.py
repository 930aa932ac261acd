"""Exact 1:N face matching: every template in one float32 matrix, one matrix-vector product.

Squared distances come from ``|t|^2 - 2 t.q + |q|^2`` with the template norms kept beside
the matrix, so a query is one BLAS ``sgemv`` over all rows plus two cheap passes (measured
in ``benchmarks/bench_faces.py``), cut into one slice per core for a large gallery. That
expansion loses precision when two vectors are close, so the distances handed back (the
winners') are recomputed directly from the difference vectors over the rows of the
persons concerned: they equal ``face_recognition.face_distance`` to float32 precision. No
approximate index is used.

Adding grows the matrix by doubling its capacity (amortised O(1), no rebuild); removing
moves the last row into the hole (swap-remove) and updates the id map.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable, Iterable

import numpy as np
import numpy.typing as npt

from gate.domain.faces import FaceMatch, PersonDistance

DIMENSIONS = 128
PARALLEL_ROWS = 100_000  # from this many templates on, the product is cut across the cores
_CORES = max(1, min(4, len(os.sched_getaffinity(0))))
Vector = npt.NDArray[np.float32]


def as_vector(encoding: bytes | npt.ArrayLike) -> Vector:
    """A 128-d float32 vector from a template's bytes or any array of 128 numbers."""
    if isinstance(encoding, bytes | bytearray | memoryview):
        vector = np.frombuffer(encoding, dtype="<f4")
    else:
        vector = np.asarray(encoding, dtype=np.float32)
    if vector.shape != (DIMENSIONS,) or not np.isfinite(vector).all():
        raise ValueError(f"a face template is {DIMENSIONS} finite numbers, got {vector.shape}")
    return vector.astype(np.float32, copy=False)


def to_template(encoding: npt.ArrayLike) -> bytes:
    """A template's bytes (128 float32, little-endian) from an encoding."""
    return as_vector(encoding).astype("<f4", copy=False).tobytes()


class TemplateMatrix:
    """All face templates of the registry, matched exactly against a query; thread-safe."""

    def __init__(self, capacity: int = 1024) -> None:
        capacity = max(capacity, 1)
        self._rows: Vector = np.empty((capacity, DIMENSIONS), dtype=np.float32)
        self._norms: Vector = np.empty(capacity, dtype=np.float32)  # squared norms
        self._owner = np.empty(capacity, dtype=np.int64)  # person index per row
        self._scratch: Vector = np.empty(capacity, dtype=np.float32)  # a query's distances
        self._ids: list[Hashable] = []  # template id per row
        self._row_of: dict[Hashable, int] = {}
        self._person_index: dict[str, int] = {}
        self._persons: list[str] = []
        self._rows_of_person: dict[int, set[int]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def capacity(self) -> int:
        """Rows allocated (grows by doubling)."""
        return int(self._rows.shape[0])

    def persons(self) -> int:
        """How many persons have at least one template."""
        return len(self._rows_of_person)

    def add(self, template_id: Hashable, person_ref: str, encoding: bytes | npt.ArrayLike) -> None:
        """Add (or replace) one template of ``person_ref``; ``ValueError`` if it is not 128-d."""
        vector = as_vector(encoding)
        with self._lock:
            if template_id in self._row_of:
                self._remove(template_id)
            row = len(self._ids)
            if row == self.capacity:
                self._grow(2 * self.capacity)
            person = self._person_index.get(person_ref)
            if person is None:
                person = self._person_index[person_ref] = len(self._persons)
                self._persons.append(person_ref)
            self._rows[row] = vector
            self._norms[row] = np.dot(vector, vector)
            self._owner[row] = person
            self._ids.append(template_id)
            self._row_of[template_id] = row
            self._rows_of_person.setdefault(person, set()).add(row)

    def add_many(self, templates: Iterable[tuple[Hashable, str, bytes | npt.ArrayLike]]) -> None:
        """Add several templates (a registry load)."""
        for template_id, person_ref, encoding in templates:
            self.add(template_id, person_ref, encoding)

    def remove(self, template_id: Hashable) -> None:
        """Remove one template; ``KeyError`` if it is not there."""
        with self._lock:
            self._remove(template_id)

    def clear(self) -> None:
        """Forget every template (the capacity stays: a reload fills the same arrays)."""
        with self._lock:
            self._ids.clear()
            self._row_of.clear()
            self._person_index.clear()
            self._persons.clear()
            self._rows_of_person.clear()

    def remove_person(self, person_ref: str) -> int:
        """Remove every template of ``person_ref``; how many there were."""
        with self._lock:
            person = self._person_index.get(person_ref)
            if person is None:
                return 0
            rows = sorted(self._rows_of_person.get(person, ()), reverse=True)
            for row in rows:  # highest first: a swap never moves a row still to be removed
                self._remove(self._ids[row])
            return len(rows)

    def distances(self, encoding: bytes | npt.ArrayLike) -> dict[Hashable, float]:
        """The distance from ``encoding`` to every template, by template id (exact)."""
        query = as_vector(encoding)
        with self._lock:
            count = len(self._ids)
            exact = np.linalg.norm(self._rows[:count] - query, axis=1)
            return dict(zip(self._ids, exact.tolist(), strict=True))

    def match(self, encoding: bytes | npt.ArrayLike, persons: int = 2) -> FaceMatch | None:
        """The nearest ``persons`` persons with their best distance each; None if empty."""
        query = as_vector(encoding)
        with self._lock:
            count = len(self._ids)
            if count == 0:
                return None
            squared = self._scratch[:count]
            self._expanded_distances(query, count)
            # |q|^2 is the same for every row: it does not change the order, so it is not added.
            found: list[PersonDistance] = []
            # One person more than asked: the expansion's error (about 1e-6 on a squared
            # distance) could swap two persons that close; the exact sort puts them right.
            for _ in range(min(persons + 1, len(self._rows_of_person))):
                person = int(self._owner[int(np.argmin(squared))])
                rows = np.fromiter(self._rows_of_person[person], dtype=np.int64)
                exact = np.linalg.norm(self._rows[rows] - query, axis=1)
                found.append(PersonDistance(self._persons[person], float(exact.min())))
                squared[rows] = np.inf
            found.sort(key=lambda item: item.distance)
            return FaceMatch(found[0], tuple(found[1:persons]))

    def _expanded_distances(self, query: Vector, count: int) -> None:
        """``|t|^2 - 2 t.q`` of the first ``count`` rows into the scratch row.

        The service runs BLAS on one thread (``gate.runtime``), which keeps a small product
        from spinning up threads; a gallery of ``PARALLEL_ROWS`` or more is cut into one
        slice per core, each a thread of its own (numpy lets go of the interpreter lock
        for the product and the two passes), so a city-sized gallery still takes all the
        cores. The slices are exact: each row's value is computed once, by one thread.
        """
        parts = min(_CORES, count // PARALLEL_ROWS) if count >= PARALLEL_ROWS else 1
        bounds = [count * part // parts for part in range(parts + 1)]

        def slice_of(start: int, stop: int) -> None:
            out = self._scratch[start:stop]
            np.matmul(self._rows[start:stop], query, out=out)
            out *= -2
            out += self._norms[start:stop]

        helpers = [
            threading.Thread(target=slice_of, args=(bounds[part], bounds[part + 1]))
            for part in range(1, parts)
        ]
        for helper in helpers:
            helper.start()
        slice_of(bounds[0], bounds[1])
        for helper in helpers:
            helper.join()

    def _grow(self, capacity: int) -> None:
        rows = np.empty((capacity, DIMENSIONS), dtype=np.float32)
        rows[: self.capacity] = self._rows
        norms = np.empty(capacity, dtype=np.float32)
        norms[: self.capacity] = self._norms
        owner = np.empty(capacity, dtype=np.int64)
        owner[: self.capacity] = self._owner
        self._rows, self._norms, self._owner = rows, norms, owner
        self._scratch = np.empty(capacity, dtype=np.float32)

    def _remove(self, template_id: Hashable) -> None:
        row = self._row_of.pop(template_id)
        last = len(self._ids) - 1
        person = int(self._owner[row])
        self._rows_of_person[person].discard(row)
        if not self._rows_of_person[person]:
            del self._rows_of_person[person]
        if row != last:
            moved = self._ids[last]
            moved_person = int(self._owner[last])
            self._rows[row] = self._rows[last]
            self._norms[row] = self._norms[last]
            self._owner[row] = moved_person
            self._ids[row] = moved
            self._row_of[moved] = row
            self._rows_of_person[moved_person].discard(last)
            self._rows_of_person[moved_person].add(row)
        self._ids.pop()
