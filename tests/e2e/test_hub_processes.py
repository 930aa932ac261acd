"""Two hub processes on one PostgreSQL database take pushes from 20 edges at once.

Each simulated edge (a thread) pushes its passages in batches to either process, now
and then sends a batch again (its answer "lost") and rewinds on a 409; a puller reads
the hub feed meanwhile. Every item is stored exactly once, and the puller sees every
row exactly once, in ``hub_seq`` order: the hub_seq lock holds across processes.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.runtime.bootstrap import Services
from registry.hub_models import HubPassage
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import _get_json, free_port
from tests.hub_items import feed_item

EDGES, PASSAGES, BATCH = 20, 600, 50

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _call(url: str, key: str, body: Any | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - localhost
        url,
        data=orjson.dumps(body) if body is not None else None,
        method="POST" if body is not None else "GET",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - localhost
            return answer.status, orjson.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read() or b"null")


def _key(services: Services, name: str, compounds: tuple[str, ...], *scopes: str) -> str:
    actor = Actor("operator", "cli@test", datetime.now(UTC))
    command = CreateApiKey(name, scopes, compounds=compounds)
    return create_api_key(command, actor=actor, units=services.units).text


def _edge(compound: str, key: str, hubs: list[str], sent: list[str], errors: list[str]) -> None:
    chance = random.Random(compound)  # noqa: S311 - a test's traffic, not a secret
    items = [feed_item(compound, seq) for seq in range(1, PASSAGES + 1)]
    sent.extend(item["uuid"] for item in items)
    position = 0
    while position < len(items):
        size = chance.randint(1, BATCH)
        chunk = items[position : position + size]
        hub = chance.choice(hubs)
        status, answer = _call(
            f"{hub}/api/v1/ingest", key, {"compound_id": compound, "items": chunk}
        )
        if status == 409:
            position = answer["expected_after"]
            continue
        if status != 200:
            errors.append(f"{compound}: {status} {answer}")
            return
        if answer["acknowledged_seq"] != chunk[-1]["seq"]:
            errors.append(f"{compound}: acknowledged {answer}")
        if chance.random() < 0.15:
            continue  # "lost" answer: the same batch goes again
        if chance.random() < 0.05:
            position += size + 3  # the edge's cursor ran ahead: the hub answers 409
            continue
        position += size


def test_two_hub_processes_store_every_item_once_and_feed_it_in_order(
    services: Services,
) -> None:
    if services.database.dialect != "postgresql":
        pytest.skip("several hub processes share a PostgreSQL database")
    compounds = [f"c{number:02d}" for number in range(EDGES)]
    keys = {code: _key(services, f"edge-{code}", (code,), "passages:push") for code in compounds}
    reader = _key(services, "district", tuple(compounds), "passages:read")
    env = env_of(services)
    env.update(GATE_HUB__ENABLED="true", GATE_API__REQUESTS_PER_MINUTE="100000")
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "gate", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    hubs = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for hub in hubs:
            _get_json(f"{hub}/healthz", deadline=60)
        sent: list[str] = []
        errors: list[str] = []
        edges = [
            threading.Thread(target=_edge, args=(code, keys[code], hubs, sent, errors))
            for code in compounds
        ]
        seen: list[tuple[int, str]] = []
        done = threading.Event()

        def pull() -> None:
            cursor, turn = "v1.0", 0
            while True:
                turn += 1
                finished = done.is_set()
                status, page = _call(
                    f"{hubs[turn % 2]}/api/v1/passages?after={cursor}&limit=700", reader
                )
                if status != 200:
                    errors.append(f"feed: {status} {page}")
                    return
                seen.extend((item["hub_seq"], item["uuid"]) for item in page["items"])
                cursor = page["next_cursor"]
                if finished and not page["items"]:
                    return
                if not page["items"]:
                    time.sleep(0.02)

        puller = threading.Thread(target=pull)
        puller.start()
        for edge in edges:
            edge.start()
        for edge in edges:
            edge.join(timeout=300)
        done.set()
        puller.join(timeout=120)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    assert not errors, errors[:5]
    assert not any(edge.is_alive() for edge in edges)
    with services.database.session() as session:
        count = session.scalar(select(func.count()).select_from(HubPassage))
        distinct = session.scalar(select(func.count(func.distinct(HubPassage.uuid))))
    assert count == distinct == EDGES * PASSAGES == len(set(sent))
    numbers = [number for number, _ in seen]
    assert numbers == sorted(numbers)
    assert len(numbers) == len(set(numbers))
    assert sorted(uuid for _, uuid in seen) == sorted(sent)
