"""Accuracy on labelled photos: open-set identification as the gate does it, measured.

Labels come from one of three layouts:

    folders   DIR/<identity>/<photo>: the photo's folder names the person
    names     DIR/<identity>_0001.jpg, obama2.jpg: a photo directly in DIR is named by its
              file name without the trailing digits and ``_``/``-`` before them
    pairs     a CSV of ``file_x,file_y,Decision`` (Yes/No), given instead of DIR, over the
              photos beside it: an identity is a connected component of the Yes pairs

Several sources are pooled, each identity named by its source too. One photo per identity
is enrolled (the first, by name, that gives a face; one encoding, where the office's
enrolment averages 5 jitters); every third identity (``strangers``, a fraction; ``offset``
picks which third) is left out of the gallery entirely and its photos are probes of
strangers. Every other photo is identified against the gallery with ``band_of``,
by its largest face. A photo that cannot be read or has no face is named in the report with
its reason, never dropped silently.

The distance distributions are over every pair of encoded photos (same person, different
persons), so that the thresholds can be chosen from them and not from one split.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gate.domain.errors import FaceImageRejected
from gate.domain.faces import Box, FaceBand, FaceThresholds, FaceVerdict, band_of
from recognition.faces.engine import FaceEngine, Image
from recognition.faces.images import read_photo
from recognition.faces.matcher import TemplateMatrix, as_vector

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
PERCENTILES = (0, 1, 5, 25, 50, 75, 95, 99, 100)
_TRAILING_NUMBER = re.compile(r"[_\-\s]*\d+$")


@dataclass(frozen=True)
class LabelledPhoto:
    """A photo file and the person it is of."""

    path: Path
    identity: str


def identity_from_name(stem: str) -> str:
    """The person a file is named for: ``Bill_Gates_0003`` is Bill_Gates, ``obama2`` obama."""
    return _TRAILING_NUMBER.sub("", stem) or stem


def folder_photos(root: Path) -> list[LabelledPhoto]:
    """Every image under ``root``: named by its folder, or by its file name when directly in it."""
    photos: list[LabelledPhoto] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        identity = path.parent.name if path.parent != root else identity_from_name(path.stem)
        photos.append(LabelledPhoto(path, identity))
    return photos


def paired_photos(root: Path, pairs: Path) -> list[LabelledPhoto]:
    """The photos named in a Yes/No pairs CSV; identity = connected component of the Yes pairs."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    with pairs.open(newline="", encoding="utf-8") as lines:
        for row in csv.DictReader(lines):
            first, second = find(row["file_x"]), find(row["file_y"])
            if row["Decision"].strip().lower() == "yes" and first != second:
                parent[max(first, second)] = min(first, second)
    components: dict[str, list[str]] = {}
    for name in parent:
        components.setdefault(find(name), []).append(name)
    photos: list[LabelledPhoto] = []
    for members in components.values():
        identity = Path(min(members, key=_natural)).stem  # a component is named by its first file
        photos.extend(LabelledPhoto(root / name, identity) for name in members)
    return sorted(photos, key=lambda p: _natural(p.path.name))


def _natural(name: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


@dataclass(frozen=True)
class PhotoFace:
    """A face found in a photo, with its template."""

    box: Box
    template: bytes


def faces_of(engine: FaceEngine, rgb: Image) -> list[PhotoFace]:
    """Every face in a photo (a bystander too), the largest first, each encoded."""
    upsample = 1 if rgb.shape[1] < engine.settings.small_photo_width else 0
    boxes = engine.detect(rgb, width=engine.settings.photo_detect_width, upsample=upsample)
    boxes.sort(key=lambda b: (b[2] - b[0]) * (b[1] - b[3]), reverse=True)
    encodings = engine.encode(rgb, boxes)
    return [
        PhotoFace(box, encoding.astype("<f4").tobytes())
        for box, encoding in zip(boxes, encodings, strict=True)
    ]


def read_faces(engine: FaceEngine, path: Path) -> list[PhotoFace]:
    """The faces in an image file; ``FaceImageRejected`` (``unreadable`` if it cannot be opened)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FaceImageRejected("unreadable", f"the file cannot be read: {exc.strerror}") from exc
    return faces_of(engine, read_photo(data))


@dataclass(frozen=True)
class Probe:
    """A labelled photo's largest face (``template``), or why it has none (``error``)."""

    photo: LabelledPhoto
    template: bytes | None
    error: str | None = None
    faces: int = 0


def encode_photos(engine: FaceEngine, photos: Iterable[LabelledPhoto]) -> list[Probe]:
    """The largest face of every photo, or the reason it gave none (``no_face`` and the
    photo errors of ``read_photo``)."""
    probes = []
    for photo in photos:
        try:
            faces = read_faces(engine, photo.path)
        except FaceImageRejected as exc:
            probes.append(Probe(photo, None, exc.reason))
            continue
        if not faces:
            probes.append(Probe(photo, None, "no_face"))
        else:
            probes.append(Probe(photo, faces[0].template, None, len(faces)))
    return probes


def stranger_identities(identities: Sequence[str], fraction: float, offset: int = 0) -> set[str]:
    """The identities left out of the gallery: ``fraction`` of them, spread evenly over the
    sorted names (1/3: the 3rd, 6th, 9th...; ``offset`` 1: the 2nd, 5th...; 2: the 1st, 4th)."""
    if not 0 <= fraction < 1:
        raise ValueError("the strangers' fraction is at least 0 and below 1")
    ordered = sorted(identities)
    return {
        name
        for index, name in enumerate(ordered)
        if int((index + 1 + offset) * fraction) > int((index + offset) * fraction)
    }


def percentiles(values: Sequence[float]) -> dict[str, float] | None:
    """The distribution's percentiles (p0 is the minimum, p100 the maximum); None if empty."""
    if not values:
        return None
    points = np.percentile(np.asarray(values, dtype=np.float64), PERCENTILES)
    return {f"p{p}": round(float(v), 4) for p, v in zip(PERCENTILES, points, strict=True)}


@dataclass(frozen=True)
class Outcome:
    """One probe identified: who it is, the band, who was named, and how near."""

    image: str
    identity: str
    stranger: bool
    band: str
    person: str | None
    distance: float | None
    margin: float | None
    nearest: str | None  # the nearest person, whatever the band (rank-1)


@dataclass(frozen=True)
class EvalReport:
    """The figures of one evaluation; rates are fractions of their probes (None: no probes)."""

    images: int
    identities: int
    enrolled: int
    strangers: int
    genuine_probes: int
    stranger_probes: int
    tar: float | None  # genuine probes banded match to the right person
    far: float | None  # genuine probes banded match to a wrong person
    genuine_uncertain: float | None
    genuine_unknown: float | None
    rank1: float | None  # genuine probes whose nearest person is the right one
    stranger_accepts: int  # stranger probes banded match: the open-set false accepts
    stranger_accept_rate: float | None
    stranger_uncertain: float | None
    thresholds: dict[str, float]
    failed: dict[str, str]  # image -> reason: unreadable or without a face
    same_person: dict[str, float] | None  # distances over every pair of the same person
    different_persons: dict[str, float] | None
    same_pairs: int = 0
    different_pairs: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    def as_dict(self, *, outcomes: bool = False) -> dict[str, Any]:
        """The report as JSON-ready values (each probe's outcome only when asked)."""
        data = asdict(self)
        if not outcomes:
            del data["outcomes"]
        return data


def _rate(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def evaluate(
    probes: Sequence[Probe],
    thresholds: FaceThresholds,
    *,
    strangers: float = 1 / 3,
    offset: int = 0,
) -> EvalReport:
    """Enrol one photo per identity, leave the strangers out, identify the rest (module doc)."""
    good = [p for p in probes if p.template is not None]
    identities = sorted({p.photo.identity for p in probes})
    left_out = stranger_identities(identities, strangers, offset)
    gallery = TemplateMatrix()
    enrolled: dict[str, Path] = {}
    for probe in good:  # photos are in name order: the first with a face is enrolled
        identity = probe.photo.identity
        if identity not in left_out and identity not in enrolled:
            gallery.add(str(probe.photo.path), identity, probe.template or b"")
            enrolled[identity] = probe.photo.path
    enrolled_photos = set(enrolled.values())
    outcomes = []
    for probe in good:
        if probe.photo.path in enrolled_photos:
            continue
        match = gallery.match(probe.template or b"", persons=2)
        verdict: FaceVerdict = band_of(match, thresholds)
        outcomes.append(
            Outcome(
                image=str(probe.photo.path),
                identity=probe.photo.identity,
                stranger=probe.photo.identity in left_out,
                band=verdict.band.value,
                person=verdict.person_ref,
                distance=None if verdict.distance is None else round(verdict.distance, 4),
                margin=None if verdict.margin is None else round(verdict.margin, 4),
                nearest=None if match is None else match.best.person_ref,
            )
        )
    return _report(probes, identities, left_out, gallery, outcomes, thresholds)


def _report(
    probes: Sequence[Probe],
    identities: Sequence[str],
    left_out: set[str],
    gallery: TemplateMatrix,
    outcomes: Sequence[Outcome],
    thresholds: FaceThresholds,
) -> EvalReport:
    genuine = [o for o in outcomes if not o.stranger]
    foreign = [o for o in outcomes if o.stranger]
    matched = [o for o in genuine if o.band == FaceBand.MATCH]
    accepted = [o for o in foreign if o.band == FaceBand.MATCH]
    same, different = pair_distances(probes)
    return EvalReport(
        images=len(probes),
        identities=len(identities),
        enrolled=gallery.persons(),
        strangers=len(left_out),
        genuine_probes=len(genuine),
        stranger_probes=len(foreign),
        tar=_rate(sum(o.person == o.identity for o in matched), len(genuine)),
        far=_rate(sum(o.person != o.identity for o in matched), len(genuine)),
        genuine_uncertain=_rate(sum(o.band == FaceBand.UNCERTAIN for o in genuine), len(genuine)),
        genuine_unknown=_rate(sum(o.band == FaceBand.UNKNOWN for o in genuine), len(genuine)),
        rank1=_rate(sum(o.nearest == o.identity for o in genuine), len(genuine)),
        stranger_accepts=len(accepted),
        stranger_accept_rate=_rate(len(accepted), len(foreign)),
        stranger_uncertain=_rate(sum(o.band == FaceBand.UNCERTAIN for o in foreign), len(foreign)),
        thresholds={
            "strict": thresholds.strict,
            "loose": thresholds.loose,
            "margin": thresholds.margin,
        },
        failed={str(p.photo.path): p.error or "" for p in probes if p.template is None},
        same_person=percentiles(same),
        different_persons=percentiles(different),
        same_pairs=len(same),
        different_pairs=len(different),
        outcomes=list(outcomes),
    )


def pair_distances(probes: Sequence[Probe]) -> tuple[list[float], list[float]]:
    """The distance of every pair of encoded photos: (same person, different persons)."""
    same: list[float] = []
    different: list[float] = []
    encoded = [(p.photo.identity, as_vector(p.template)) for p in probes if p.template is not None]
    for (first, a), (second, b) in itertools.combinations(encoded, 2):
        (same if first == second else different).append(float(np.linalg.norm(a - b)))
    return same, different


def labelled_photos(source: Path) -> list[LabelledPhoto]:
    """The photos of a source with their identities: a folder (by folders and names) or a
    pairs CSV (the photos beside it, by its Yes pairs)."""
    if source.is_file() and source.suffix.lower() == ".csv":
        return paired_photos(source.parent, source)
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is neither a folder nor a pairs CSV")
    return folder_photos(source)


def labelled_sources(sources: Sequence[Path]) -> list[LabelledPhoto]:
    """The photos of several sources; with more than one, an identity is named by its source
    too (``lfw_subset/Bill_Gates``), so that two sets' ``img1`` stay two persons."""
    if len(sources) == 1:
        return labelled_photos(sources[0])
    photos: list[LabelledPhoto] = []
    for source in sources:
        prefix = source.parent.name if source.is_file() else source.name
        photos.extend(
            LabelledPhoto(p.path, f"{prefix}/{p.identity}") for p in labelled_photos(source)
        )
    return photos


def evaluate_sources(
    engine: FaceEngine,
    sources: Sequence[Path],
    thresholds: FaceThresholds,
    *,
    strangers: float = 1 / 3,
    offset: int = 0,
) -> EvalReport:
    """Encode every labelled photo of the sources and evaluate (``gate face eval``)."""
    probes = encode_photos(engine, labelled_sources(sources))
    return evaluate(probes, thresholds, strangers=strangers, offset=offset)
