"""The district feed read and encoded in worker processes (``gate.runtime.feed_worker``).

Real worker processes on the real log, on each engine. What the workers answer is what
the serving process would (every shape, with and without documents, across pages); an
answer left after its first page hands the worker back for the next; a worker killed in
the middle of an answer fails that answer (``RegistryUnavailable``: the HTTP layer's 503,
or a cut stream the district resumes from its last line) and the next request gets a new
worker and a whole answer; a database that does not answer is a 503 with a message, not
a 500; and over HTTP the NDJSON and JSON answers come from the workers, not this process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal

import pytest

from gate.app.district_feed import FeedLines, FeedProfile, LocalFeedLines
from gate.domain.errors import RegistryUnavailable
from gate.runtime.bootstrap import Services
from gate.runtime.feed_worker import FeedSetup, FeedWorkers
from tests.api.test_district_api import _get, _key, _passages
from tests.api.test_office_support import Compound, app_client

PAGE = 7  # rows a page: 23 passages are four pages


def _workers(services: Services, *, database_url: str | None = None) -> FeedWorkers:
    setup = FeedSetup(
        database_url or services.settings.effective_database_url,
        services.compound,
        services.data_key,
        page=PAGE,
    )
    return FeedWorkers(setup, workers=1, answer_seconds=30)


def _local(services: Services) -> LocalFeedLines:
    return LocalFeedLines(services.feed, services.compound, services.pseudonym, page=PAGE)


def _lines(pages: list[FeedLines]) -> list[bytes]:
    return [line for page in pages for line in page.lines]


def _pid(workers: FeedWorkers) -> int:
    (worker,) = workers._all
    pid: int = worker.process.pid
    return pid


def test_the_workers_answer_what_this_process_would_page_for_page(compound: Compound) -> None:
    services = compound.services
    _passages(services, 23)
    workers = _workers(services)
    try:
        for profile in FeedProfile:
            for documents in (False, True):
                ours = list(_local(services).pages(3, 100, profile=profile, documents=documents))
                theirs = list(workers.pages(3, 100, profile=profile, documents=documents))
                assert [(p.next_cursor, p.count) for p in theirs] == [
                    (p.next_cursor, p.count) for p in ours
                ]
                assert _lines(theirs) == _lines(ours)
        standard = list(workers.pages(3, 100, profile=FeedProfile.STANDARD, documents=False))
        assert [json.loads(line)["seq"] for line in _lines(standard)] == list(range(4, 24))
        assert [page.count for page in standard] == [7, 7, 6]
        first = _pid(workers)
        limited = list(workers.pages(0, 9, profile=FeedProfile.STANDARD, documents=False))
        assert [page.count for page in limited] == [7, 2]
        assert _pid(workers) == first  # one worker served every answer
        assert workers.restarts == 0
    finally:
        workers.close()


def test_an_answer_left_after_its_first_page_gives_the_worker_back(compound: Compound) -> None:
    services = compound.services
    _passages(services, 23)
    workers = _workers(services)
    try:
        pages = workers.pages(0, 100, profile=FeedProfile.STANDARD, documents=False)
        assert next(pages).count == PAGE
        pages.close()  # the district hung up (or JSON wanted one page)
        first = _pid(workers)
        whole = list(workers.pages(0, 100, profile=FeedProfile.STANDARD, documents=False))
        assert sum(page.count for page in whole) == 23
        assert _pid(workers) == first
        assert workers.restarts == 0
    finally:
        workers.close()


def test_a_worker_killed_mid_answer_fails_that_answer_and_the_next_gets_a_new_one(
    compound: Compound,
) -> None:
    services = compound.services
    _passages(services, 23)
    workers = _workers(services)
    try:
        pages = workers.pages(0, 100, profile=FeedProfile.STANDARD, documents=False)
        got = [next(pages)]
        killed = _pid(workers)
        os.kill(killed, signal.SIGKILL)
        with pytest.raises(RegistryUnavailable, match="ended unexpectedly"):
            got += list(pages)
        # What the district had is a prefix: it resumes after its last line's seq.
        seqs = [json.loads(line)["seq"] for line in _lines(got)]
        assert seqs == list(range(1, len(seqs) + 1))
        after = seqs[-1]
        rest = list(workers.pages(after, 100, profile=FeedProfile.STANDARD, documents=False))
        assert [json.loads(line)["seq"] for line in _lines(rest)] == list(range(after + 1, 24))
        assert _pid(workers) != killed
        assert workers.restarts == 1
    finally:
        workers.close()


def test_a_database_that_does_not_answer_is_a_503_not_a_500(compound: Compound) -> None:
    services = compound.services
    workers = _workers(services, database_url="postgresql+psycopg://gate@127.0.0.1:9/none")
    key = _key(services, "passages:read")
    try:
        with pytest.raises(RegistryUnavailable, match="worker failed"):
            list(workers.pages(0, 10, profile=FeedProfile.STANDARD, documents=False))
        assert workers.restarts == 0  # the worker said so and stays for the next request
        with app_client(dataclasses.replace(services, feed_lines=workers)) as client:
            for accept in ("application/json", "application/x-ndjson", "text/csv"):
                answer = _get(client, key, "/api/v1/passages?limit=5", accept)
                assert answer.status_code == 503, answer.text  # type: ignore[attr-defined]
                assert answer.json()["detail"]  # type: ignore[attr-defined]
    finally:
        workers.close()


def test_over_http_the_feed_comes_from_the_workers(compound: Compound) -> None:
    services = compound.services
    assert isinstance(services.feed_lines, FeedWorkers)  # the service's default
    _passages(services, 12)
    key = _key(services, "passages:read")
    with app_client(services) as client:
        pages = _get(client, key, "/api/v1/passages?limit=100").json()["items"]  # type: ignore[attr-defined]
        streamed = _get(client, key, "/api/v1/passages?limit=100", "application/x-ndjson")
        lines = [json.loads(line) for line in streamed.text.splitlines()]  # type: ignore[attr-defined]
    assert [item["seq"] for item in pages] == list(range(1, 13))
    assert lines == pages
    (worker,) = services.feed_lines._all
    assert worker.process.is_alive()
    assert worker.process.pid != os.getpid()
    assert worker.streams == 2
