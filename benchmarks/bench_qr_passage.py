"""Benchmark: QR pass -> decision -> durable log row, against an ID card in the same run.

The demo compound of ``bench_passage.py`` (same seed, same registry, the same gate built by
``build_gate`` with a recording barrier) gets a rotating resident pass issued to each of
``--residents`` residents (``issue_pass``, as the office does). Then, in one process and on
one database, rounds of ID-card passages alternate with rounds of QR-pass passages (which
kind goes first alternates too, so a noisy neighbour or the growing log hits both alike).
Each round draws (seeded) the residents who come; the card round and the pass round of a
pair see the same residents in the same order. A resident shows their card, or the text
their phone shows at the clock's moment (``SignedPass.text_at(now)``, made outside the
timing: that is the phone's work). A resident's next passage goes the other way only once
the barrier opened for them, whatever they showed, so anti-passback stays quiet.

Each passage is timed on its own from the credential to what ``PassagePipeline.process``
returns: the decision, the committed log row and the barrier command. For each credential:
median, p90, p99 (ms) and the ratio QR/card of the medians; the goal is QR p50 within 1.2x
of the card's. The durable commit dominates both and its time drifts with the machine's
other work, so rounds are short and the median of the paired differences (the k-th QR
passage minus the k-th card passage: one resident, one pair of rounds) is shown too.
Where the QR path's extra time goes is then timed alone on the same texts, at the moments
they were shown:

- ``services.pass_verifier.verify`` of a freshly bootstrapped gate: the first verification
  of each pass (cold: Ed25519 and decoding) and repeated ones (the signed part memoised,
  only the rotating code checked);
- the snapshot's pass lookup (``RegistrySnapshot.identify_pass``), next to what the card
  path does instead (the document's lookup hash and ``RegistrySnapshot.identify``).

The log's hash chain and row count are verified at the end.

    .venv/bin/python benchmarks/bench_qr_passage.py [--passages 2000] [--residents 1000]
                                                    [--round 10] [--postgres URL] [--json]

``--passages`` is per credential kind. With ``--json`` the figures go to stdout as one JSON
document and the text report to stderr.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from bench_passage import (
    SEED,
    Engine,
    describe_machine,
    postgres_engine,
    quantile,
    seed_compound,
    services_for,
    sqlite_engine,
    verify,
)

from devices.memory_barrier import RecordingBarrier
from gate.app.actor import Actor
from gate.app.pass_ports import SignedPass
from gate.app.pipeline import PassagePipeline
from gate.app.qr_passes import IssuePass, issue_pass
from gate.domain.documents import normalize
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.passes import PassClaims, PassKind, PassReason
from gate.domain.people import PersonKind
from gate.domain.snapshot import RegistrySnapshot
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services, build_gate, utc_now
from registry.demo import DemoCompound

GOAL_RATIO = 1.2  # QR p50 within 1.2x of the card's
CARD, QR = "card", "qr"
T = TypeVar("T")


@dataclass(frozen=True)
class Resident:
    """One resident who comes to the gate: their card and their issued rotating pass."""

    document: DocumentRead
    signed: SignedPass


@dataclass
class Series:
    """Per-passage nanoseconds and decisions of one credential kind."""

    latencies: list[int] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # the passages' own time, summed (rounds interleave)


@dataclass
class QrSeries(Series):
    """A QR series also keeps what was shown, when, and whether the gate saw the pass before."""

    shown: list[tuple[str, datetime]] = field(default_factory=list)
    first_seen: list[bool] = field(default_factory=list)


# --- the residents and their passes -----------------------------------------------------


def issue_passes(services: Services, demo: DemoCompound, count: int) -> list[Resident]:
    """A rotating resident pass for ``count`` residents drawn (seeded) from the compound."""
    living = [
        person
        for person in demo.persons
        if person.kind in (PersonKind.RESIDENT, PersonKind.TENANT) and person.building
    ]
    if count > len(living):
        raise SystemExit(f"--residents {count}: the demo compound has {len(living)} residents")
    chosen = random.Random(SEED + 2).sample(living, count)
    residents = []
    for person in chosen:
        actor = Actor(name="bench", origin="bench", at=utc_now())
        issued = issue_pass(
            IssuePass(PassKind.RESIDENT, person.doc_number, note="bench"),
            actor=actor,
            units=services.units,
            signer=services.pass_signer,
        )
        assert issued.signed.claims.rotating, "a resident pass rotates"
        residents.append(Resident(DocumentRead(person.doc_type, person.doc_number), issued.signed))
    return residents


# --- the passages -----------------------------------------------------------------------


def run_rounds(
    pipeline: PassagePipeline, residents: list[Resident], passages: int, round_size: int
) -> tuple[Series, QrSeries]:
    """``passages`` of each kind in alternating rounds; directions follow the barrier."""
    rng = random.Random(SEED + 3)
    going = {index: rng.choice((Direction.IN, Direction.OUT)) for index in range(len(residents))}
    card, qr = Series(), QrSeries()
    seen: set[str] = set()
    clock = time.perf_counter_ns

    def pass_by(index: int, kind: str) -> None:
        resident = residents[index]
        direction = going[index]
        if kind == CARD:
            credential = Credential(CredentialKind.ID_CARD, document=resident.document)
            series: Series = card
        else:
            moment = utc_now()
            shown = resident.signed.text_at(moment)  # the phone's screen at this moment
            credential = Credential(CredentialKind.QR_PASS, code=shown)
            qr.shown.append((shown, moment))
            pass_id = resident.signed.claims.pass_id
            qr.first_seen.append(pass_id not in seen)
            seen.add(pass_id)
            series = qr
        before = clock()
        result = pipeline.process(credential, lane="main", direction=direction)
        elapsed = clock() - before
        series.latencies.append(elapsed)
        series.seconds += elapsed / 1e9
        if result.barrier_opened:
            going[index] = Direction.OUT if direction is Direction.IN else Direction.IN
        series.outcomes[result.decision.outcome.value] += 1
        series.reasons.update(result.decision.reason_codes)

    done = 0
    for number in range(-(-passages // round_size)):
        size = min(round_size, passages - done)
        comers = [rng.randrange(len(residents)) for _ in range(size)]
        for kind in (CARD, QR) if number % 2 == 0 else (QR, CARD):
            for index in comers:
                pass_by(index, kind)
        done += size
    return card, qr


# --- where the QR path's time goes ------------------------------------------------------


def timed(call: Callable[[], T]) -> tuple[int, T]:
    """Nanoseconds of one call, and what it returned."""
    before = time.perf_counter_ns()
    answer = call()
    return time.perf_counter_ns() - before, answer


def breakdown(
    fresh: Services,
    services: Services,
    snapshot: RegistrySnapshot,
    residents: list[Resident],
    qr: QrSeries,
) -> dict[str, list[int]]:
    """Nanoseconds of the identification steps alone, on the texts the QR rounds showed."""
    verifier = fresh.pass_verifier  # of a gate just started: no pass verified yet
    assert not verifier.verify("", now=utc_now()).valid  # loads the key ring, untimed
    cold: list[int] = []
    repeated: list[int] = []
    claims: list[PassClaims] = []
    seen: set[str] = set()
    for shown, moment in qr.shown:
        elapsed, check = timed(lambda: verifier.verify(shown, now=moment))  # noqa: B023
        assert check.valid, f"a shown pass was refused: {check}"
        (repeated if check.claims.pass_id in seen else cold).append(elapsed)
        seen.add(check.claims.pass_id)
        claims.append(check.claims)
    for shown, moment in qr.shown:  # every pass seen once now: all repeats
        repeated.append(timed(lambda: verifier.verify(shown, now=moment))[0])  # noqa: B023

    lookup: list[int] = []
    for (shown, moment), verified in zip(qr.shown, claims, strict=True):
        credential = Credential(CredentialKind.QR_PASS, code=shown)
        lookup.append(
            timed(lambda: snapshot.identify_pass(verified, credential, now=moment))[0]  # noqa: B023
        )

    cipher = services.cipher
    hashing: list[int] = []
    identify: list[int] = []
    now = utc_now()
    for index in random.Random(SEED + 4).choices(range(len(residents)), k=len(qr.shown)):
        document = residents[index].document
        card = Credential(CredentialKind.ID_CARD, document=document)
        # as the gate's document_hash (gate.runtime.bootstrap.build_gate)
        elapsed, digest = timed(
            lambda: cipher.lookup_hash(document.doc_type.value, normalize(document.number))  # noqa: B023
        )
        hashing.append(elapsed)
        identify.append(timed(lambda: snapshot.identify(card, digest, now=now))[0])  # noqa: B023
    return {
        "verify_cold": cold,
        "verify_repeated": repeated,
        "identify_pass": lookup,
        "document_hash": hashing,
        "identify_card": identify,
    }


# --- report -----------------------------------------------------------------------------


def summary(latencies: list[int], seconds: float | None = None) -> dict[str, float]:
    figures = {
        "median_ms": quantile(latencies, 0.5),
        "p90_ms": quantile(latencies, 0.9),
        "p99_ms": quantile(latencies, 0.99),
        "max_ms": max(latencies) / 1e6,
        "count": len(latencies),
    }
    if seconds:
        figures["per_second"] = len(latencies) / seconds
    return figures


def micro(latencies: list[int]) -> dict[str, float]:
    return {
        "median_us": quantile(latencies, 0.5) * 1000,
        "p90_us": quantile(latencies, 0.9) * 1000,
        "p99_us": quantile(latencies, 0.99) * 1000,
        "count": len(latencies),
    }


def bench_engine(
    engine: Engine,
    scratch: Path,
    key_file: Path,
    options: argparse.Namespace,
    out: TextIO,
) -> dict[str, Any]:
    today = datetime.now(LOCAL_TZ).date()
    url = engine.url_for(f"qr_passage_{os.getpid()}")  # runs at once do not share a database
    began = time.perf_counter()
    demo = seed_compound(url, scratch, key_file, today)
    seeded = time.perf_counter() - began
    services = services_for(url, scratch, key_file, "gate")
    try:
        began = time.perf_counter()
        residents = issue_passes(services, demo, options.residents)
        issuing = time.perf_counter() - began
        print(
            f"\n[{engine.name}] demo compound seeded: {len(demo.persons):,} persons in "
            f"{seeded:.1f} s; {len(residents):,} rotating resident passes issued in "
            f"{issuing:.1f} s",
            file=out,
        )
        gate = build_gate(services, barrier=RecordingBarrier())
        card, qr = run_rounds(gate.pipeline, residents, options.passages, options.round)
        check = verify(services, 2 * options.passages)
        fresh = services_for(url, scratch, key_file, "gate")
        try:
            parts = breakdown(fresh, services, gate.snapshots.current(), residents, qr)
        finally:
            fresh.close()
    finally:
        services.close()

    refused_passes = sum(
        count
        for code, count in qr.reasons.items()
        if code.startswith("pass_") and code != PassReason.ACCEPTED
    )
    first = [ns for ns, new in zip(qr.latencies, qr.first_seen, strict=True) if new]
    again = [ns for ns, new in zip(qr.latencies, qr.first_seen, strict=True) if not new]
    figures: dict[str, Any] = {
        "engine": engine.name,
        "residents": len(residents),
        "passages_per_kind": options.passages,
        "round": options.round,
        CARD: summary(card.latencies, card.seconds),
        QR: summary(qr.latencies, qr.seconds),
        "qr_first_seen": summary(first) if first else None,
        "qr_seen_before": summary(again) if again else None,
        "outcomes": {CARD: dict(card.outcomes), QR: dict(qr.outcomes)},
        "reasons": {CARD: dict(card.reasons), QR: dict(qr.reasons)},
        "refused_passes": refused_passes,
        "breakdown": {name: micro(values) for name, values in parts.items() if values},
        "log": check,
    }
    ratio = figures[QR]["median_ms"] / figures[CARD]["median_ms"]
    figures["ratio_median_qr_card"] = ratio
    figures["ratio_p99_qr_card"] = figures[QR]["p99_ms"] / figures[CARD]["p99_ms"]
    figures["goal_met"] = ratio <= GOAL_RATIO

    def line(label: str, values: dict[str, float] | None) -> None:
        if values is None:
            return
        rate = f"{values['per_second']:10,.0f}" if "per_second" in values else f"{'':10}"
        print(
            f"  {label:34} {values['median_ms']:8.3f} {values['p90_ms']:8.3f} "
            f"{values['p99_ms']:8.3f} {values['max_ms']:8.2f} {rate} {values['count']:7,.0f}",
            file=out,
        )

    print(
        f"  {'':34} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'per second':>10}"
        f" {'count':>7}",
        file=out,
    )
    line("ID card", figures[CARD])
    line("QR pass", figures[QR])
    line("  QR, pass first seen by the gate", figures["qr_first_seen"])
    line("  QR, pass seen before", figures["qr_seen_before"])
    print(
        f"  QR / card: x{ratio:.2f} at p50, x{figures['ratio_p99_qr_card']:.2f} at p99; "
        f"goal QR p50 <= {GOAL_RATIO:g}x card {'met' if figures['goal_met'] else 'MISSED'}",
        file=out,
    )
    print(
        f"  where the QR path's time goes (alone, on the {len(qr.shown):,} shown texts):",
        file=out,
    )
    print(f"  {'':42} {'p50 µs':>8} {'p90 µs':>8} {'p99 µs':>8} {'count':>7}", file=out)
    labels = {
        "verify_cold": "pass_verifier.verify, first of a pass",
        "verify_repeated": "pass_verifier.verify, repeated",
        "identify_pass": "snapshot.identify_pass",
        "document_hash": "card instead: document lookup hash",
        "identify_card": "card instead: snapshot.identify",
    }
    for name, label in labels.items():
        values = figures["breakdown"].get(name)
        if values:
            print(
                f"  {label:42} {values['median_us']:8.1f} {values['p90_us']:8.1f} "
                f"{values['p99_us']:8.1f} {values['count']:7,.0f}",
                file=out,
            )
    steps = figures["breakdown"]
    extra = (
        steps["verify_repeated"]["median_us"]
        + steps["identify_pass"]["median_us"]
        - steps["document_hash"]["median_us"]
        - steps["identify_card"]["median_us"]
    )
    figures["expected_extra_us"] = extra
    measured = (figures[QR]["median_ms"] - figures[CARD]["median_ms"]) * 1000
    figures["measured_extra_us"] = measured
    # The k-th card and the k-th QR passage are one resident in one pair of rounds: their
    # difference does not see the disk getting slower or faster between rounds.
    paired = [q - c for q, c in zip(qr.latencies, card.latencies, strict=True)]
    figures["paired_extra_us"] = quantile(paired, 0.5) * 1000
    print(
        f"  QR identification - card identification (p50s, repeated verify): {extra:+.1f} µs; "
        f"measured p50 difference: {measured:+.1f} µs",
        file=out,
    )
    print(
        f"  median of paired differences (same resident, QR - card): "
        f"{figures['paired_extra_us']:+.1f} µs",
        file=out,
    )
    for kind, series in ((CARD, card), (QR, qr)):
        print(
            f"  {kind} outcomes: "
            + ", ".join(f"{name} {count:,}" for name, count in series.outcomes.most_common())
            + "; reasons: "
            + ", ".join(f"{code} {count:,}" for code, count in series.reasons.most_common()),
            file=out,
        )
    print(f"  refused passes (not accepted by the verifier or the snapshot): {refused_passes}",
          file=out)  # fmt: skip
    print(f"  log: {check}", file=out)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2000, help="per credential kind")
    parser.add_argument("--residents", type=int, default=1000, help="residents with a pass")
    parser.add_argument("--round", type=int, default=10, help="passages of a round")
    parser.add_argument("--postgres", help="also run against this PostgreSQL server URL")
    parser.add_argument("--json", action="store_true", help="figures as JSON on stdout")
    options = parser.parse_args()
    if min(options.passages, options.residents, options.round) < 1:
        parser.error("--passages, --residents and --round must be at least 1")
    out = sys.stderr if options.json else sys.stdout

    machine = describe_machine()
    print(f"bench_qr_passage {datetime.now(LOCAL_TZ):%Y-%m-%d %H:%M %Z}: {machine}", file=out)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-qr-passage-") as name:
        scratch = Path(name)
        key_file = scratch / "data.key"
        key_file.write_bytes(base64.b64encode(secrets.token_bytes(32)) + b"\n")
        key_file.chmod(0o600)
        engines = [sqlite_engine(scratch)]
        if options.postgres:
            engines.append(postgres_engine(options.postgres))
        for engine in engines:
            try:
                results.append(bench_engine(engine, scratch, key_file, options, out))
            finally:
                engine.drop_all()
    if options.json:
        json.dump({"machine": machine, "goal_ratio": GOAL_RATIO, "engines": results}, sys.stdout,
                  indent=2)  # fmt: skip
        print()


if __name__ == "__main__":
    main()
