"""Load: the lanes' decisions while the district pulls the feed flat out and 20 terminals watch.

The gate runs as ``gate serve`` runs it, in this one process: the app under uvicorn (a
thread here, the main thread there) and the station's pipeline, which the lanes call for
every credential. On the demo compound in a scratch SQLite database, a morning peak of
card reads arrives at ``--rate`` a second and each decision is timed, credential in to
barrier commanded and row committed (``PassagePipeline.process``, the lanes' call).

A second process plays the outside world:

- ``--terminals`` guard terminals, each signed in with its own account, holding the live
  feed (``/terminal/feed``, server-sent events, a query of new passages every 0.3 s per
  terminal) and loading ``/terminal/state`` every 10 s, as a page reload would;
- the district pulling ``/api/v1/passages`` as NDJSON from the first row to the last,
  again and again, with no pause (its key's rate limit raised out of the way).

Phases alternate, idle and loaded, ``--rounds`` times, so a noisy moment of the shared
machine falls on both alike; each phase is ``--passages`` decisions. Prints p50/p99 per
kind of phase and the loaded / idle ratio of p99 (goal: <= 2), what the load did (events
received by the terminals, feed rows and pulls, any non-2xx), and the serving process's
resident memory sampled every second.

``--soak-minutes M`` then keeps the load and the peak going for M minutes, printing the
resident memory each minute and the growth per hour fitted over the second half (goal:
flat). The documented soak is one hour:

    .venv/bin/python benchmarks/bench_load.py [--passages 300] [--rate 10] [--rounds 2]
        [--terminals 20] [--feed-workers 1,0] [--soak-minutes 60]

``--feed-workers 1,0`` interleaves phases with the district feed in its worker process
(the service's default) and in the serving process, to show what the worker buys.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.synchronize
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import uvicorn
from bench_feed import free_port
from bench_passage import (
    SEED,
    Run,
    describe_machine,
    draw_visits,
    quantile,
    run_pipeline,
    seed_compound,
    services_for,
)

from api.app import create_app
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.app.district_feed import FeedLineSource, LocalFeedLines
from gate.app.staff import CreateStaff, create_staff
from gate.domain.roles import Role
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services, build_station
from gate.runtime.feed_worker import FeedSetup, FeedWorkers
from gate.runtime.keyfile import generate_key_file

# Each kind of phase, by (switch interval in ms, feed workers, the outside world's
# niceness): its idle runs, loaded runs and what the load did in each.
Phases = dict[tuple[float, int, int], tuple[list[Run], list[Run], list[dict[str, int]]]]
PASSWORD = "load-bench-password"  # scratch accounts of a throwaway database
STATE_EVERY_SECONDS = 10.0


# --- the outside world, in its own process ------------------------------------------------


def terminal(base: str, username: str, stop: threading.Event, counts: Counter[str]) -> None:
    """One guard terminal: sign in, load the state, hold the live feed until ``stop``."""
    with httpx.Client(base_url=base, timeout=30) as client:
        signed = client.post(
            "/login", data={"username": username, "password": PASSWORD}, headers={"Origin": base}
        )
        counts[f"login {signed.status_code}"] += 1
        state = client.get("/terminal/state")  # as the page starts: then the feed after it
        counts[f"state {state.status_code}"] += 1
        after = state.json()["last_seq"]
        next_state = time.monotonic() + STATE_EVERY_SECONDS
        events = {"Accept": "text/event-stream"}
        while not stop.is_set():
            with client.stream("GET", f"/terminal/feed?after={after}", headers=events) as feed:
                counts[f"feed {feed.status_code}"] += 1
                for line in feed.iter_lines():  # a status event at least every 3 s
                    if line.startswith("id: "):
                        after = int(line.removeprefix("id: "))
                    elif line.startswith("event: "):
                        counts[line.removeprefix("event: ")] += 1
                    if time.monotonic() >= next_state:
                        state = client.get("/terminal/state")
                        counts[f"state {state.status_code}"] += 1
                        next_state = time.monotonic() + STATE_EVERY_SECONDS
                    if stop.is_set():
                        break


def district(base: str, key: str, stop: threading.Event, counts: Counter[str]) -> None:
    """The district's puller: the whole log as NDJSON, over and over, no pause."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/x-ndjson"}
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            with client.stream("GET", "/api/v1/passages?limit=100000", headers=headers) as answer:
                counts[f"pull {answer.status_code}"] += 1
                for chunk in answer.iter_bytes(1 << 16):
                    counts["feed rows"] += chunk.count(b"\n")


def outside_world(
    base: str,
    key: str,
    usernames: list[str],
    ready: multiprocessing.synchronize.Event,
    stop: multiprocessing.synchronize.Event,
    results: Any,
    niceness: int = 0,
) -> None:
    """Run the terminals and the district until ``stop``; put what they saw in ``results``.

    ``niceness`` lowers this process's priority: on a real gate the district and the
    terminals are other machines, here they share the gate's two cores.
    """
    os.nice(niceness)
    halt = threading.Event()
    counts: Counter[str] = Counter()
    threads = [
        threading.Thread(target=terminal, args=(base, name, halt, counts), daemon=True)
        for name in usernames
    ]
    if key:  # no key: the terminals alone (--no-district)
        threads.append(
            threading.Thread(target=district, args=(base, key, halt, counts), daemon=True)
        )
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 240
    while counts["status"] < len(usernames) and time.monotonic() < deadline:
        time.sleep(0.1)  # every terminal has its feed open and got its first header
    ready.set()
    stop.wait()
    halt.set()
    for thread in threads:
        thread.join(timeout=15)
    counts["cpu ms"] = round(time.process_time() * 1000)
    results.put(dict(counts))


class Load:
    """The outside world started and stopped around a loaded phase."""

    def __init__(self, base: str, key: str, usernames: list[str], niceness: int = 0) -> None:
        spawn = multiprocessing.get_context("spawn")
        self._ready, self._stop, self._results = spawn.Event(), spawn.Event(), spawn.Queue()
        self._process = spawn.Process(
            target=outside_world,
            args=(base, key, usernames, self._ready, self._stop, self._results, niceness),
            daemon=True,
        )
        self.counts: dict[str, int] = {}

    def __enter__(self) -> Load:
        self._process.start()
        if not self._ready.wait(timeout=300):
            raise SystemExit("the terminals did not connect")
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(1.0)  # the feeds poll every 0.3 s: let the last passages reach them
        self._stop.set()
        self.counts = self._results.get(timeout=60)
        self._process.join(timeout=30)


# --- the serving process (this one) -------------------------------------------------------


def resident_mb(pid: int | None = None) -> float:
    """A process's resident memory now (VmRSS), in MiB; this one's by default."""
    for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class MemorySampler:
    """VmRSS once a second in a thread, for as long as the run lasts."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.samples.append((time.monotonic() - self._started, resident_mb()))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def serve_in_thread(services: Services, port: int) -> tuple[uvicorn.Server, Any]:
    """The app and its station as ``gate serve`` builds them, uvicorn in a thread."""
    station = build_station(services)
    config = uvicorn.Config(
        create_app(services, station), host="127.0.0.1", port=port, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    return server, station


def paced(run: Run, rate: float) -> str:
    return (
        f"p50 {quantile(run.latencies, 0.5):.3f} ms, p99 {quantile(run.latencies, 0.99):.3f} ms"
        f" ({len(run.latencies)} decisions at {rate:g}/s)"
    )


def fit_mb_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS over time, in MiB per hour."""
    if len(samples) < 2:
        return 0.0
    slope = statistics.linear_regression([t for t, _ in samples], [mb for _, mb in samples]).slope
    return slope * 3600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=300, help="decisions per phase")
    parser.add_argument("--rate", type=float, default=10.0, help="card reads a second")
    parser.add_argument("--rounds", type=int, default=2, help="idle + loaded phase pairs")
    parser.add_argument("--terminals", type=int, default=20)
    parser.add_argument("--no-district", action="store_true", help="terminals only")
    parser.add_argument(
        "--switch-ms",
        type=lambda text: [float(part) for part in text.split(",")],
        default=[sys.getswitchinterval() * 1000],
        help="thread switch intervals to compare, in ms (sys.setswitchinterval), e.g. 5,1",
    )
    parser.add_argument(
        "--feed-workers",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1],
        help="feed worker counts to compare ([api] feed_workers; 0: in this process), e.g. 1,0",
    )
    parser.add_argument(
        "--outside-nice",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[0],
        help="niceness of the process playing the terminals and the district, e.g. 0,10",
    )
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    options = parser.parse_args()
    print(f"bench_load {datetime.now(LOCAL_TZ):%Y-%m-%d %H:%M %Z}: {describe_machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as name:
        scratch = Path(name)
        key_file = scratch / "data.key"
        generate_key_file(key_file, setting="secrets.key_file")
        url = f"sqlite:///{scratch / 'load.db'}"
        demo = seed_compound(url, scratch, key_file, datetime.now(LOCAL_TZ).date())
        registered = tuple(f"{p.doc_type.value}:{p.doc_number}" for p in demo.persons)
        port = free_port()
        services = services_for(
            url, scratch, key_file, "serve", api={"requests_per_minute": 1_000_000}
        )  # the district at full speed, not at its key's quota
        admin = Actor(name="bench", origin="bench", at=datetime.now(UTC))
        usernames = [f"guard{index:02d}" for index in range(1, options.terminals + 1)]
        for username in usernames:
            create_staff(
                CreateStaff(username=username, role=Role.GUARD, password=PASSWORD),
                actor=admin,
                units=services.units,
            )
        key = create_api_key(
            CreateApiKey(name="bench-district", scopes=("passages:read",)),
            actor=admin,
            units=services.units,
        ).text
        if options.no_district:
            key = ""
        # The district API's feed source for each compared count, swapped between phases.
        sources = {
            count: services.feed_lines
            if count == services.settings.api.feed_workers
            else feed_source(services, count)
            for count in options.feed_workers
        }
        server, station = serve_in_thread(services, port)
        base = f"http://127.0.0.1:{port}"
        memory = MemorySampler()
        memory.start()
        try:
            pipeline = station.gate.pipeline
            run_pipeline(pipeline, draw_visits(registered, 200))  # warm the snapshot, caches
            visits = draw_visits(registered, options.passages)  # the same reads in every phase
            phases: Phases = {
                (interval, count, nice): ([], [], [])
                for interval in options.switch_ms
                for count in options.feed_workers
                for nice in options.outside_nice
            }
            for _ in range(options.rounds):
                for (interval, count, nice), (idle, loaded, loads) in phases.items():
                    sys.setswitchinterval(interval / 1000)
                    use_feed_source(services, sources[count])
                    idle.append(run_pipeline(pipeline, visits, interval=1 / options.rate))
                    with Load(base, key, usernames, nice) as load:
                        loaded.append(run_pipeline(pipeline, visits, interval=1 / options.rate))
                    loads.append(load.counts)
            for (interval, count, nice), (idle, loaded, loads) in phases.items():
                print(
                    f"-- the interpreter's thread switch interval {interval:g} ms, "
                    f"{count} feed worker(s), the outside world at niceness {nice}"
                )
                report(idle, loaded, loads, options)
            if len(phases) > 1:
                first, *others = phases
                for other in others:
                    ratio = quantile(merged(phases[other][1]).latencies, 0.99) / quantile(
                        merged(phases[first][1]).latencies, 0.99
                    )
                    print(f"loaded p99 at {other} / at {first} (ms, workers, nice): x{ratio:.2f}")
            sys.setswitchinterval(options.switch_ms[-1] / 1000)
            use_feed_source(services, sources[options.feed_workers[-1]])
            if options.soak_minutes > 0:
                soak(pipeline, registered, base, key, usernames, options, services.feed_lines)
        finally:
            memory.stop()
            server.should_exit = True
            station.stop()
            for source in sources.values():
                if isinstance(source, FeedWorkers):
                    source.close()
            services.close()
        during = [mb for _, mb in memory.samples]
        if during:
            print(
                f"serving process RSS over the run: first {during[0]:.0f} MiB, "
                f"median {statistics.median(during):.0f} MiB, peak {max(during):.0f} MiB, "
                f"last {during[-1]:.0f} MiB ({len(during)} samples)"
            )
    print(f"seed {SEED}")


def feed_source(services: Services, workers: int) -> FeedLineSource:
    """The district API's source with ``workers`` processes, as ``bootstrap`` builds it."""
    if workers == 0:
        return LocalFeedLines(services.feed, services.compound, services.pseudonym)
    setup = FeedSetup(
        services.settings.effective_database_url, services.compound, services.data_key
    )
    return FeedWorkers(setup, workers)


def worker_pids(source: FeedLineSource) -> list[int]:
    """The feed's worker processes alive now (none for the in-process source)."""
    if not isinstance(source, FeedWorkers):
        return []
    return [worker.process.pid for worker in list(source._all) if worker.process.is_alive()]


def worker_mb(source: FeedLineSource) -> list[float]:
    """The resident memory of each feed worker alive now, in MiB."""
    sizes = []
    for pid in worker_pids(source):
        try:
            sizes.append(resident_mb(pid))
        except FileNotFoundError:  # replaced between the listing and the read
            continue
    return sizes


def use_feed_source(services: Services, source: FeedLineSource) -> None:
    """Swap the running app's feed source between phases (the app reads it per request)."""
    object.__setattr__(services, "feed_lines", source)  # Services is frozen for the service


def merged(runs: list[Run]) -> Run:
    return Run(
        latencies=[value for run in runs for value in run.latencies],
        seconds=sum(run.seconds for run in runs),
        outcomes=[value for run in runs for value in run.outcomes],
        reasons=sum((run.reasons for run in runs), Counter()),
    )


def report(
    idle: list[Run], loaded: list[Run], loads: list[dict[str, int]], options: argparse.Namespace
) -> None:
    quiet, busy = merged(idle), merged(loaded)
    print(f"decision idle:   {paced(quiet, options.rate)}")
    print(f"decision loaded: {paced(busy, options.rate)}")
    for index, (a, b) in enumerate(zip(idle, loaded, strict=True), start=1):
        ratio = quantile(b.latencies, 0.99) / quantile(a.latencies, 0.99)
        print(f"  round {index}: p99 loaded / idle x{ratio:.2f}")
    ratio = quantile(busy.latencies, 0.99) / quantile(quiet.latencies, 0.99)
    print(f"decision p99 loaded / idle: x{ratio:.2f} (goal <= 2)")
    total: Counter[str] = Counter()
    for counts in loads:
        total.update(counts)
    print(
        f"load: {options.terminals} terminals, {total['passage']:,} passage events and "
        f"{total['status']:,} header events received, {total['state 200']:,} state loads; "
        f"the district pulled {total['pull 200']:,} times, {total['feed rows']:,} rows"
    )
    seconds = sum(run.seconds for run in loaded)
    print(
        f"the outside world's CPU: {total['cpu ms'] / 1000:.1f} s in {seconds:.0f} s of loaded "
        f"phases ({total['cpu ms'] / 10 / seconds:.0f}% of a core, of the 2 this gate has)"
    )
    refused = {name: count for name, count in total.items() if name.split()[-1].isdigit()
               and not name.split()[-1].startswith(("2", "3"))}  # fmt: skip
    print(f"non-2xx answers: {refused or 'none'}")


def soak(
    pipeline: Any,
    registered: tuple[str, ...],
    base: str,
    key: str,
    usernames: list[str],
    options: argparse.Namespace,
    feed: FeedLineSource,
) -> None:
    """The peak and the load for ``--soak-minutes``; RSS each minute and its trend.

    The feed's worker is counted beside the serving process (it is replaced after its
    quota of answers, which is when its memory goes back).
    """
    minutes = options.soak_minutes
    per_minute = max(1, int(options.rate * 60))
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    with Load(base, key, usernames, options.outside_nice[-1]) as load:
        elapsed = 0.0
        while elapsed < minutes * 60:
            run = run_pipeline(
                pipeline, draw_visits(registered, per_minute), interval=1 / options.rate
            )
            elapsed = time.monotonic() - started
            samples.append((elapsed, resident_mb()))
            workers = worker_mb(feed)
            print(
                f"soak {elapsed / 60:5.1f} min: RSS {samples[-1][1]:.0f} MiB, feed workers "
                f"{' '.join(f'{mb:.0f}' for mb in workers) or '-'} MiB, "
                f"decision p99 {quantile(run.latencies, 0.99):.3f} ms",
                flush=True,
            )
    late = samples[len(samples) // 2 :]
    print(
        f"soak {minutes:g} min: RSS first {samples[0][1]:.0f} MiB, last {samples[-1][1]:.0f} MiB,"
        f" growth over the second half {fit_mb_per_hour(late):+.1f} MiB/h; "
        f"the district pulled {load.counts.get('pull 200', 0):,} times"
    )


if __name__ == "__main__":
    main()
