"""The template matrix: exact distances (face_recognition's), add and remove keep it exact."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.faces import matcher
from recognition.faces.matcher import TemplateMatrix, to_template
from tests.recognition.faces.reference import face_distance


def encodings(count: int, seed: int = 7) -> np.ndarray:
    """Vectors spread like dlib's encodings (components around +-0.09, norms near 1)."""
    return np.random.default_rng(seed).normal(0, 0.09, (count, 128)).astype(np.float32)


def expected_match(
    templates: dict[str, tuple[str, np.ndarray]], query: np.ndarray
) -> list[tuple[str, float]]:
    """The best distance per person, nearest first, from face_recognition.face_distance."""
    ids = list(templates)
    distances = face_distance(np.array([templates[i][1] for i in ids], dtype=np.float64), query)
    best: dict[str, float] = {}
    for template_id, distance in zip(ids, distances, strict=True):
        person = templates[template_id][0]
        best[person] = min(best.get(person, np.inf), float(distance))
    return sorted(best.items(), key=lambda item: item[1])


def assert_matches(
    matrix: TemplateMatrix, templates: dict[str, tuple[str, np.ndarray]], query: np.ndarray
) -> None:
    found = matrix.match(query, persons=3)
    assert found is not None
    expected = expected_match(templates, query.astype(np.float64))[:3]
    got = [(found.best.person_ref, found.best.distance)] + [
        (other.person_ref, other.distance) for other in found.others
    ]
    assert [person for person, _ in got] == [person for person, _ in expected]
    # float32 precision: the vectors are float32, the reference computes in float64
    np.testing.assert_allclose([d for _, d in got], [d for _, d in expected], rtol=2e-6, atol=1e-7)


def test_distances_equal_face_distance() -> None:
    vectors = encodings(500)
    matrix = TemplateMatrix(capacity=4)
    for index, vector in enumerate(vectors):
        matrix.add(index, f"p{index % 170}", to_template(vector))
    query = vectors[3] + np.float32(0.001)  # very near one template: where expansion is worst
    reference = face_distance(vectors.astype(np.float64), query.astype(np.float64))
    distances = matrix.distances(to_template(query))
    np.testing.assert_allclose([distances[i] for i in range(500)], reference, rtol=2e-6, atol=1e-7)
    assert matrix.capacity == 512  # doubled from 4


def test_match_gives_the_best_distance_per_person_and_the_next_persons() -> None:
    vectors = encodings(600)
    templates = {f"t{i}": (f"p{i % 200}", vectors[i]) for i in range(600)}
    matrix = TemplateMatrix()
    matrix.add_many((tid, person, vector) for tid, (person, vector) in templates.items())
    assert len(matrix) == 600
    assert matrix.persons() == 200
    for query in (vectors[10], vectors[11] * 0.5 + vectors[12] * 0.5, encodings(1, seed=99)[0]):
        assert_matches(matrix, templates, query)
    exact = matrix.match(vectors[10])
    assert exact is not None
    assert exact.best == type(exact.best)("p10", 0.0)
    assert exact.second is not None
    assert exact.margin == exact.second.distance


@pytest.mark.parametrize("cores", [2, 3])
def test_a_gallery_cut_across_the_cores_matches_exactly(
    monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    """The slices a large gallery is cut into (here from 100 rows) cover every row once."""
    monkeypatch.setattr(matcher, "PARALLEL_ROWS", 100)
    monkeypatch.setattr(matcher, "_CORES", cores)
    vectors = encodings(1001, seed=cores)
    templates = {f"t{i}": (f"p{i % 300}", vectors[i]) for i in range(1001)}
    matrix = TemplateMatrix()
    matrix.add_many((tid, person, vector) for tid, (person, vector) in templates.items())
    # The nearest row of each slice's first and last row, and a stranger.
    for row in (0, 332, 333, 499, 500, 666, 667, 1000):
        assert_matches(matrix, templates, vectors[row] + np.float32(0.002))
    assert_matches(matrix, templates, encodings(1, seed=42)[0])


def test_add_and_remove_keep_it_exact() -> None:
    vectors = encodings(400, seed=3)
    rng = np.random.default_rng(5)
    templates: dict[str, tuple[str, np.ndarray]] = {}
    matrix = TemplateMatrix(capacity=2)
    for step, vector in enumerate(vectors):
        template_id = f"t{step}"
        templates[template_id] = (f"p{rng.integers(0, 60)}", vector)
        matrix.add(template_id, templates[template_id][0], vector)
        if step % 3 == 2:  # remove a random one: swap-remove moves the last row
            gone = str(rng.choice(sorted(templates)))
            matrix.remove(gone)
            del templates[gone]
        if step % 25 == 0:
            assert_matches(matrix, templates, vectors[step])
    assert len(matrix) == len(templates)
    person = templates[next(iter(templates))][0]
    owned = [tid for tid, (owner, _) in templates.items() if owner == person]
    assert matrix.remove_person(person) == len(owned)
    for tid in owned:
        del templates[tid]
    assert_matches(matrix, templates, vectors[0])
    assert set(matrix.distances(vectors[0])) == set(templates)
    with pytest.raises(KeyError):
        matrix.remove(owned[0])


def test_replacing_a_template_and_an_empty_matrix() -> None:
    matrix = TemplateMatrix()
    assert matrix.match(encodings(1)[0]) is None
    first, second = encodings(2)
    matrix.add("t", "p", first)
    matrix.add("t", "q", second)  # the same id again replaces
    assert len(matrix) == 1
    found = matrix.match(second)
    assert found is not None
    assert found.best.person_ref == "q"
    assert found.others == ()
    with pytest.raises(ValueError, match="128"):
        matrix.add("u", "p", b"\0" * 12)


def test_clear_forgets_everything_and_the_matrix_fills_again() -> None:
    matrix = TemplateMatrix(capacity=2)
    rng = np.random.default_rng(5)
    first, second = rng.normal(0, 0.1, (2, 128)).astype(np.float32)
    matrix.add("a", "p1", first)
    matrix.add("b", "p2", second)
    matrix.clear()
    assert len(matrix) == 0
    assert matrix.persons() == 0
    assert matrix.match(first) is None
    matrix.add("b", "p2", second)
    found = matrix.match(second)
    assert found is not None
    assert found.best.person_ref == "p2"
    assert found.others == ()
