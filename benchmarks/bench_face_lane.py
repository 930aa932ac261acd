"""Benchmark: a face at the lane camera, frame to logged decision; and what the face
workers cost a resident who shows an ID card.

1. **Frame -> decision for a new face** at 640x480 and 1280x720: the real path of
   ``gate.app.face_camera`` (frame to the worker processes, HOG + 5-point + encoder there,
   the tracker, the gallery's exact 1:N with the bands, the snapshot kept encrypted, the
   pipeline's decision and its durable log row), one frame at a time, each a new track.
   The gallery is the demo compound's: residents enrolled with consent from the shared
   labelled photos (one photo each, through ``enrol_face``), padded in memory with
   synthetic templates to ``--gallery`` so 1:N runs at a compound's size. The probes are
   the other photos of those persons, framed as a lane camera sees them. Goal: p50 <=
   250 ms, p99 <= 400 ms on this 2-core machine.
2. **Card p50 with the face workers idle vs busy**, in the same run, same database kind:
   ID-card passages of demo residents through the same pipeline, first with no face work,
   then while ``--workers`` face workers are kept busy with frames without pause. The face
   path shares nothing with the card path but the CPU: this measures that.

    .venv/bin/python benchmarks/bench_face_lane.py [--probes 40] [--cards 400] [--workers 1]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_faces import in_frame, shared_faces  # noqa: E402
from bench_passage import describe_machine, seed_compound, services_for, sqlite_engine  # noqa: E402

from devices.memory_barrier import RecordingBarrier  # noqa: E402
from gate.app.actor import Actor  # noqa: E402
from gate.app.face_camera import FaceCamera  # noqa: E402
from gate.app.faces import (  # noqa: E402
    EnrolFace,
    FaceConsentForm,
    RecordFaceConsent,
    enrol_face,
    record_face_consent,
)
from gate.domain.device_ports import Frame  # noqa: E402
from gate.domain.documents import normalize  # noqa: E402
from gate.domain.errors import GateError  # noqa: E402
from gate.domain.faces import FaceBand  # noqa: E402
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead  # noqa: E402
from gate.domain.people import PersonKind  # noqa: E402
from gate.domain.status import LOCAL_TZ  # noqa: E402
from gate.runtime.bootstrap import Gate, Services, build_gate  # noqa: E402
from recognition.faces import FaceEngine, FacePool  # noqa: E402
from recognition.faces.evaluation import labelled_photos  # noqa: E402
from recognition.faces.images import read_photo  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def enrol_gallery(services: Services, residents: list[str]) -> list[tuple[str, Path]]:
    """One photo per identity of the labelled sets enrolled for a resident each; the
    probes (every other photo of an enrolled identity) with the resident's ref."""
    faces = shared_faces()
    photos = labelled_photos(faces / "serengil-deepface" / "master.csv")
    photos += labelled_photos(faces / "ageitgey-face_recognition/examples/knn_examples/train")
    by_identity: dict[str, list[Path]] = {}
    for photo in photos:
        by_identity.setdefault(photo.identity, []).append(photo.path)
    office = Actor("office", "bench", datetime.now(UTC))
    engine = FaceEngine()
    probes: list[tuple[str, Path]] = []
    refs = iter(residents)
    for _identity, paths in sorted(by_identity.items()):
        if len(paths) < 2:
            continue
        ref = next(refs)
        record_face_consent(
            RecordFaceConsent(ref, FaceConsentForm("bench", False, "2026-01")),
            actor=office,
            units=services.units,
        )
        try:
            enrol_face(
                EnrolFace(ref, photo=paths[0].read_bytes()),
                actor=office,
                units=services.units,
                enroller=engine,
                gallery=services.face_gallery,
            )
        except GateError as refused:
            print(f"  not enrolled {paths[0].name}: {refused}")
            continue
        probes += [(ref, path) for path in paths[1:]]
    return probes


def pad_gallery(services: Services, residents: list[str], size: int) -> None:
    rng = np.random.default_rng(7)
    base = len(services.face_gallery)
    for n in range(max(0, size - base)):
        vector = rng.normal(0, 0.09, 128).astype("<f4")
        services.face_gallery.add(10_000_000 + n, residents[n % len(residents)], vector.tobytes())


def bench_frames(
    services: Services, probes: list[tuple[str, Path]], workers: int, repeat: int
) -> None:
    gate = build_gate(services, barrier=RecordingBarrier())
    print(f"\nframe -> logged decision, a new face each frame ({workers} worker(s))")
    print(
        f"  {'frame':<10} {'faces':>5} {'p50':>10} {'p99':>10} {'max':>10}"
        f" {'worker p50':>11} {'rest p50':>10}  bands"
    )
    pictures = [(ref, read_photo(path.read_bytes())) for ref, path in probes] * repeat
    for width, height in ((640, 480), (1280, 720)):
        with FacePool(workers=workers, queue_size=1) as pool:
            camera = FaceCamera(
                "main",
                frames=pool,
                gallery=services.face_gallery,
                store=services.face_passages,
                clock=lambda: datetime.now(UTC),
            )
            warm = in_frame(pictures[0][1], width, height)
            pool.submit(Frame(warm, datetime.now(UTC), -1, -100.0)).result()
            totals, inside, rest, bands = [], [], [], dict.fromkeys(FaceBand, 0)
            right = 0
            for n, (ref, rgb) in enumerate(pictures):
                image = in_frame(rgb, width, height)
                frame = Frame(image, datetime.now(UTC), n, 10.0 * n)  # 10 s apart: new tracks
                started = time.perf_counter()
                found = pool.submit(frame).result()
                worked = time.perf_counter()
                for presented in camera.on_faces(frame, found):
                    gate.pipeline.process(presented.credential, lane="main", direction=Direction.IN)
                    band = presented.credential.face_band or FaceBand.UNKNOWN
                    bands[band] += 1
                    right += presented.credential.person_ref == ref
                done = time.perf_counter()
                totals.append(done - started)
                inside.append(found.seconds)
                rest.append(done - worked)
            summary = " ".join(f"{b.value} {c}" for b, c in bands.items())
            print(
                f"  {width}x{height:<6} {len(pictures):>5} {ms(percentile(totals, 0.5))}"
                f" {ms(percentile(totals, 0.99))} {ms(max(totals))}"
                f" {ms(statistics.median(inside)):>11} {ms(statistics.median(rest))}"
                f"  {summary}; right person {right}"
            )


def card_passages(
    gate: Gate,
    documents: list[DocumentRead],
    count: int,
    inside: set[str],
    rng: random.Random,
    pace: float = 0.0,
) -> list[float]:
    latencies = []
    for _ in range(count):
        time.sleep(pace)  # people arrive one after another; the workers work meanwhile
        document = rng.choice(documents)
        direction = Direction.OUT if document.number in inside else Direction.IN
        started = time.perf_counter()
        result = gate.pipeline.process(
            Credential(CredentialKind.ID_CARD, document=document), lane="main", direction=direction
        )
        latencies.append(time.perf_counter() - started)
        if result.barrier_opened:
            (inside.discard if direction is Direction.OUT else inside.add)(document.number)
    return latencies


def bench_cards(
    services: Services, documents: list[DocumentRead], count: int, workers: int, pace: float
) -> None:
    """Rounds of card passages alternate: workers paused, workers fed without pause."""
    print(f"\nID-card passage with the face workers idle vs busy ({workers} worker(s), 1280x720)")
    gate = build_gate(services, barrier=RecordingBarrier())
    photo = read_photo(next((shared_faces() / "serengil-deepface").glob("img1.jpg")).read_bytes())
    frame_image = in_frame(photo, 1280, 720)
    busy, stop = threading.Event(), threading.Event()
    encoded = [0]

    def keep_busy(pool: FacePool) -> None:
        n = 0
        while not stop.is_set():
            if not busy.wait(0.05):
                continue
            futures = [
                pool.submit(Frame(frame_image, datetime.now(UTC), n + k, 10.0 * (n + k)))
                for k in range(workers)
            ]
            n += workers
            for future in futures:
                try:
                    faces = future.result()
                except Exception:  # dropped for a newer frame
                    continue
                encoded[0] += sum(face.template is not None for face in faces.faces)

    rng, inside = random.Random(3), set[str]()
    idle: list[float] = []
    loaded: list[float] = []
    busy_seconds = 0.0
    with FacePool(workers=workers, queue_size=workers) as pool:
        pool.submit(Frame(frame_image, datetime.now(UTC), -1, -100.0)).result()
        feeder = threading.Thread(target=keep_busy, args=(pool,), daemon=True)
        feeder.start()
        card_passages(gate, documents, 100, inside, rng)  # warm: caches, the WAL
        rounds = 10
        for _ in range(rounds):
            idle += card_passages(gate, documents, count // rounds, inside, rng, pace)
            busy.set()
            time.sleep(0.3)  # the workers at work before the round starts
            started = time.perf_counter()
            loaded += card_passages(gate, documents, count // rounds, inside, rng, pace)
            busy_seconds += time.perf_counter() - started
            busy.clear()
            time.sleep(0.3)
        stop.set()
        feeder.join(timeout=10)
    idle_p50, busy_p50 = statistics.median(idle), statistics.median(loaded)
    print(f"  idle: p50 {ms(idle_p50)}  p99 {ms(percentile(idle, 0.99))}  ({len(idle)} passages)")
    print(
        f"  busy: p50 {ms(busy_p50)}  p99 {ms(percentile(loaded, 0.99))}  ({len(loaded)} passages;"
        f" the workers encoded {encoded[0]} faces meanwhile)"
    )
    print(
        f"  busy / idle p50: x{busy_p50 / idle_p50:.2f}  (rounds of {count // rounds} alternate,"
        f" a card every {pace * 1000:.0f} ms; {len(loaded) / busy_seconds:.0f} cards/s while busy)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=400, help="card passages per series")
    parser.add_argument("--workers", type=int, default=1, help="face worker processes")
    parser.add_argument("--gallery", type=int, default=1500, help="templates in the gallery")
    parser.add_argument("--repeat", type=int, default=3, help="each probe, as a new face")
    parser.add_argument("--pace-ms", type=float, default=25, help="pause before each card")
    parser.add_argument("--parts", default="frames,cards")
    args = parser.parse_args()
    print(f"bench_face_lane: {describe_machine()}")
    print(f"  load average {os.getloadavg()[0]:.1f} at the start")
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-face-lane-") as scratch_name:
        scratch = Path(scratch_name)
        key_file = scratch / "data.key"
        key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        engine = sqlite_engine(scratch)
        url = engine.url_for("seed")
        demo = seed_compound(url, scratch, key_file, datetime.now(LOCAL_TZ).date())
        services = services_for(url, scratch, key_file, "lane")
        try:
            snapshot = build_gate(services).snapshots.current()
            residents, documents = [], []
            for person in demo.persons:
                if person.kind is not PersonKind.RESIDENT:
                    continue
                digest = services.cipher.lookup_hash(
                    person.doc_type.value, normalize(person.doc_number)
                )
                ref = snapshot.person_by_document.get(digest)
                if ref is not None:
                    residents.append(ref)
                    documents.append(DocumentRead(person.doc_type, person.doc_number))
            if "frames" in parts:
                probes = enrol_gallery(services, residents)
                pad_gallery(services, residents, args.gallery)
                print(
                    f"  gallery: {len(services.face_gallery):,} templates"
                    f" ({len(probes)} probes of enrolled persons)"
                )
                bench_frames(services, probes, args.workers, args.repeat)
            if "cards" in parts:
                bench_cards(
                    services, documents[:2000], args.cards, args.workers, args.pace_ms / 1000
                )
        finally:
            services.close()
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
