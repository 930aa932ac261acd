"""Events out: does a broker or a webhook that is down slow a passage? Measured, same run.

On the demo compound in a scratch SQLite database, the same 2,000 ID-card passages go
through the pipeline in rounds, each timed passage by passage:

- no sink (the baseline);
- a relay to the MQTT broker on 127.0.0.1:1883, up;
- a relay to a broker that is down (a port nobody listens on);
- a relay to a webhook that is down (the same), next to the live broker.

The rounds alternate (baseline, up, down, webhook, baseline, ...) so a noisy moment of the
machine falls on all of them alike. Prints p50/p99 per variant and the ratios against the
baseline; then, for the live broker, how long after the last passage its message was
acknowledged (the relay's lag), and that the relays to the dead sinks kept their cursor.

    .venv/bin/python benchmarks/bench_events.py [--passages 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import base64
import secrets
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench_passage import (
    SEED,
    describe_machine,
    draw_visits,
    quantile,
    run_pipeline,
    seed_compound,
    services_for,
)

from api.outbound.mqtt import MqttSink
from api.outbound.webhook import WebhookSink
from devices.memory_barrier import RecordingBarrier
from gate.app.outbound import OutboundSink
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services, build_gate
from gate.runtime.outbound_wiring import build_relays


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    print(f"bench_events {datetime.now(LOCAL_TZ):%Y-%m-%d %H:%M %Z}: {describe_machine()}")
    if not broker_up():
        raise SystemExit("no MQTT broker on 127.0.0.1:1883")
    with tempfile.TemporaryDirectory(prefix="bench-events-") as name:
        scratch = Path(name)
        key_file = scratch / "data.key"
        key_file.write_bytes(base64.b64encode(secrets.token_bytes(32)) + b"\n")
        key_file.chmod(0o600)
        url = f"sqlite:///{scratch / 'events.db'}"
        demo = seed_compound(url, scratch, key_file, datetime.now(LOCAL_TZ).date())
        registered = tuple(f"{p.doc_type.value}:{p.doc_number}" for p in demo.persons)
        services = services_for(url, scratch, key_file, "bench")
        try:
            measure(services, registered, options.passages, options.rounds)
        finally:
            services.close()
    print(f"seed {SEED}")


def measure(services: Services, registered: tuple[str, ...], count: int, rounds: int) -> None:
    code = f"bench{secrets.token_hex(3)}"
    dead = free_port()
    variants: dict[str, Callable[[], list[OutboundSink]]] = {
        "no sink": list,
        "MQTT broker up": lambda: [MqttSink(host="127.0.0.1", port=1883, compound=code)],
        "MQTT broker down": lambda: [MqttSink(host="127.0.0.1", port=dead, compound=code)],
        "webhook down": lambda: [
            WebhookSink(name="dead", url=f"http://127.0.0.1:{dead}/", secret=b"s" * 32)
        ],
    }
    gate = build_gate(services, barrier=RecordingBarrier())
    visits = draw_visits(registered, count)
    run_pipeline(gate.pipeline, visits[:200])  # warm the snapshot and the caches
    latencies: dict[str, list[int]] = {label: [] for label in variants}
    lags: list[float] = []
    states: dict[str, list[str]] = {label: [] for label in variants}
    for _round in range(rounds):
        for label, sinks in variants.items():
            # Fresh relays each round, started before and stopped after their passages.
            relays = build_relays(services, clock=lambda: datetime.now(UTC), sinks=sinks())
            unsubscribe = []
            for relay in relays:
                relay.start()
                unsubscribe.append(gate.events.subscribe(relay.on_event))
            run = run_pipeline(gate.pipeline, visits)
            latencies[label] += run.latencies
            finished = time.perf_counter()
            if label == "MQTT broker up":
                head = services.passages.tail(1)[-1].seq
                while relays[0].state.cursor < head and time.perf_counter() - finished < 60:
                    time.sleep(0.01)
                lags.append(time.perf_counter() - finished)
            for stop in unsubscribe:
                stop()
            for relay in relays:
                relay.stop()
                state = relay.state
                states[label].append(
                    f"delivered {state.delivered}, failures in a row {state.failures}"
                    f" ({state.last_error or 'ok'})"
                )
    base50 = quantile(latencies["no sink"], 0.5)
    base99 = quantile(latencies["no sink"], 0.99)
    print(f"{count} passages x {rounds} rounds per variant, alternating (ms):")
    print(f"  {'variant':22} {'p50':>8} {'p99':>8} {'p50/base':>9} {'p99/base':>9}")
    for label, values in latencies.items():
        p50, p99 = quantile(values, 0.5), quantile(values, 0.99)
        print(f"  {label:22} {p50:8.3f} {p99:8.3f} {p50 / base50:9.2f} {p99 / base99:9.2f}")
    print(
        "MQTT relay lag, last passage of a round to its PUBACK: "
        f"median {statistics.median(lags):.3f} s"
    )
    for label, lines in states.items():
        for line in lines[-1:]:
            print(f"  {label}, last round: {line}")


if __name__ == "__main__":
    main()
