"""Benchmark: pass-token verifications per second on one core, median µs per verify, sizes.

A pool of passes (half of them rotating resident passes with a household, the rest
visitor, invite and escorted-exit passes) is signed by a key ring in a temporary folder.
Each workload verifies texts of that pool one after the other on one pinned core, in
rounds that interleave the workloads (the median round is shown); each call is then timed
on its own for the median and p99.

- baseline: bare Ed25519 verification of the very bytes each token carries (the
  cryptography library's ``Ed25519PublicKey.verify``), the floor of a first scan
- cold: ``verify_pass`` with its memos off, every scan a pass never seen before
- warm: ``verify_pass`` as a gate runs it: scans drawn at random from the pool after each
  pass was seen once, the resident codes rendered for the next time step (so the rotating
  tail is new and checked, the signed part memoised)
- refused: flipped bits (signature fails, no memo) and text that is not base45

Token sizes are the layout's; the QR version (alphanumeric mode, error correction M) is
segno's where it is installed.

    .venv/bin/python benchmarks/bench_passes.py [--passes 2000] [--scans 100000] [--rounds 5]
                                                [--cpu 0]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cryptography
from cryptography.hazmat.backends.openssl import backend
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recognition.passes import (
    IssuedPass,
    KeyRing,
    PassKind,
    b45decode,
    b45encode,
    issue_pass,
    open_key_ring,
    verify_pass,
)
from recognition.passes.layout import SIGNING_CONTEXT, split

NOW = datetime(2026, 3, 1, 8, 0, 10, tzinfo=UTC)
GOAL_PER_SECOND = 50_000
MIX = [PassKind.RESIDENT] * 4 + [PassKind.VISITOR] * 2 + [PassKind.INVITE, PassKind.ESCORTED_EXIT]


def make_pool(ring: KeyRing, count: int, rng: random.Random) -> list[IssuedPass]:
    """``count`` passes of the mix, valid around ``NOW``."""
    pool = []
    for index in range(count):
        kind = MIX[index % len(MIX)]
        start = NOW - timedelta(minutes=rng.randrange(1, 600))
        pool.append(
            issue_pass(
                key=ring.current,
                kind=kind,
                subject_ref=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                household_ref=(
                    str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    if kind in (PassKind.RESIDENT, PassKind.INVITE)
                    else None
                ),
                not_before=start,
                not_after=start + timedelta(days=rng.choice([1, 30, 365])),
            )
        )
    return pool


def rate(call: Callable[[str], object], texts: Sequence[str]) -> float:
    """Calls per second over ``texts`` in one tight loop."""
    started = time.perf_counter()
    for text in texts:
        call(text)
    return len(texts) / (time.perf_counter() - started)


def latencies(call: Callable[[str], object], texts: Sequence[str]) -> tuple[float, float]:
    """Median and p99 µs, each call timed on its own."""
    clock = time.perf_counter_ns
    timings = []
    for text in texts:
        before = clock()
        call(text)
        timings.append(clock() - before)
    timings.sort()
    return statistics.median(timings) / 1000, timings[len(timings) * 99 // 100] / 1000


def flip_a_signed_bit(text: str) -> str:
    """The token with one bit of its subject ref flipped: the signature no longer holds."""
    data = bytearray(b45decode(text))
    data[20] ^= 0x01
    return b45encode(bytes(data))


def qr_version(text: str) -> str:
    """The QR version segno picks for ``text`` at error correction M, or why not."""
    try:
        import segno
    except ImportError:
        return "(segno not installed)"
    code = segno.make_qr(text, error="m", boost_error=False)
    return f"{code.version} ({code.designator}, {code.mode}, {17 + 4 * int(code.version)} modules)"


def print_sizes(ring: KeyRing) -> None:
    print("token sizes (version 1 layout)")
    print(f"  {'kind':<14} {'household':<10} {'rotating':<9} {'bytes':>5} {'chars':>5}  QR at M")
    for kind in PassKind:
        for household in (False, True):
            issued = issue_pass(
                key=ring.current,
                kind=kind,
                subject_ref=str(uuid.uuid4()),
                household_ref=str(uuid.uuid4()) if household else None,
                not_before=NOW,
                not_after=NOW + timedelta(days=365),
            )
            text = issued.text_at(NOW)
            print(
                f"  {kind.value:<14} {household!s:<10} {issued.claims.rotating!s:<9}"
                f" {len(b45decode(text)):>5} {len(text):>5}  {qr_version(text)}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2000)
    parser.add_argument("--scans", type=int, default=100_000)
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    rng = random.Random(9)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    with tempfile.TemporaryDirectory() as folder:
        ring = open_key_ring(Path(folder) / "pass-keys")
    pool = make_pool(ring, args.passes, rng)
    texts = [issued.text_at(NOW) for issued in pool]
    later = NOW + timedelta(seconds=30)
    picked = [pool[rng.randrange(len(pool))] for _ in range(args.scans)]
    scans = [issued.text_at(later) for issued in picked]

    print(
        f"pass tokens on one core (cpu {args.cpu}), {platform.processor() or platform.machine()},"
        f" Python {platform.python_version()}, cryptography {cryptography.__version__},"
        f" {backend.openssl_version_text()}"
    )
    print_sizes(ring)

    # The baseline gets each token's key, signature and signed bytes ready-made (a dict
    # look-up per call), so it is Ed25519 alone.
    public = {key.key_id: Ed25519PublicKey.from_public_bytes(key.public_raw) for key in ring.keys}
    ready = {}
    for text in texts:
        token = split(b45decode(text))
        ready[text] = (public[token.key_id], token.signature, SIGNING_CONTEXT + token.body)

    def baseline(text: str) -> None:
        key, signature, message = ready[text]
        key.verify(signature, message)

    cold_keys, cold_secrets = ring.trusted(memo_size=0), ring.step_secrets(memo_size=0)
    warm_keys, warm_secrets = ring.trusted(), ring.step_secrets()

    def cold(text: str) -> bool:
        return verify_pass(text, keys=cold_keys, now=NOW, step_secrets=cold_secrets).valid

    def warm(text: str) -> bool:
        return verify_pass(text, keys=warm_keys, now=later, step_secrets=warm_secrets).valid

    assert all(cold(text) for text in texts)
    for text in texts:  # each pass seen once before the warm scans
        warm(text)
    assert all(warm(text) for text in scans)
    flipped = [flip_a_signed_bit(text) for text in texts[: max(1, len(texts) // 4)]]
    assert not any(cold(text) for text in flipped)
    junk = ["<script>alert(1)</script>", "https://example.org/pass?id=1", "a" * 180] * 300

    residents = [text for issued, text in zip(picked, scans, strict=True) if issued.claims.rotating]
    workloads: list[tuple[str, Callable[[str], object], Sequence[str]]] = [
        ("baseline: bare Ed25519 verify", baseline, texts),
        ("cold: verify_pass, no memo", cold, texts),
        ("warm: repeat scans, next step", warm, scans),
        ("warm: rotating residents only", warm, residents),
        ("refused: a flipped bit", cold, flipped),
        ("refused: not base45", cold, junk),
    ]
    # rounds interleave the workloads, so a noisy neighbour or a clock change hits all alike
    rates: dict[str, list[float]] = {name: [] for name, _, _ in workloads}
    for _ in range(args.rounds):
        for name, call, inputs in workloads:
            rates[name].append(rate(call, inputs))
    print(f"\nverification ({len(pool):,} passes, {len(scans):,} warm scans, {args.rounds} rounds)")
    print(f"  {'workload':<32} {'per s':>9} {'median µs':>10} {'p99 µs':>8}")
    rows = []
    for name, call, inputs in workloads:
        per_second = statistics.median(rates[name])
        median, p99 = latencies(call, inputs)
        rows.append((name, (per_second, median, p99)))
        print(f"  {name:<32} {per_second:>9,.0f} {median:>10.1f} {p99:>8.1f}")
    base, cold_rate, warm_rate = rows[0][1][0], rows[1][1][0], rows[2][1][0]
    print(
        f"\n  cold / baseline: {cold_rate / base:.2f}x   warm / baseline: {warm_rate / base:.2f}x"
    )
    warm_verdict = "met" if warm_rate >= GOAL_PER_SECOND else "NOT met"
    cold_verdict = "met" if cold_rate >= GOAL_PER_SECOND else "not met (bounded by Ed25519)"
    print(f"  goal >= {GOAL_PER_SECOND:,}/s: warm {warm_verdict}, cold {cold_verdict}")


if __name__ == "__main__":
    main()
