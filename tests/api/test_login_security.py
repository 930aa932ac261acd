"""Sign-in under attack: nobody can lock the guard out, and no refusal tells names apart.

Wrong passwords are throttled per account *and* source: a machine that failed too often
waits, everyone else (and the terminal's own machine above all) still signs in. Every
refusal -- wrong password, unknown name, throttled source, disabled account -- answers
with the same words after the same password-hash work. Timings are only compared with
each other within one run (medians), never with a fixed number of milliseconds.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from gate.app.actor import Actor
from gate.app.staff import revoke_staff
from gate.app.throttle import ACCOUNT_FAILURES, SOURCE_FAILURES
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services
from tests.gate.app.staff_builders import add_staff

PASSWORD = "guard-password"
WRONG = {"username": "guard", "password": "nope-nope"}
RIGHT = {"username": "guard", "password": PASSWORD}
TERMINAL = "127.0.0.1"  # the gate box itself: trusted by default


def from_address(app: FastAPI, address: str, lang: str = "zh") -> TestClient:
    """A client whose requests come from ``address``, in ``lang``."""
    client = TestClient(app, client=(address, 50000), follow_redirects=False)
    client.cookies.set("gate_lang", lang)
    return client


def app_with_guard(services: Services) -> FastAPI:
    add_staff(services, "guard", Role.GUARD, PASSWORD, name="夜班", pin="2468")
    return create_app(services)


def refusal(response: Any) -> tuple[int, str]:
    """The status and the error line of a refused sign-in page."""
    found = re.search(r'<p class="error" role="alert">([^<]*)</p>', response.text)
    assert found is not None, response.text
    return response.status_code, found.group(1)


def test_wrong_passwords_from_one_machine_throttle_that_machine_not_the_account(
    services: Services,
) -> None:
    app = app_with_guard(services)
    attacker, office_pc, terminal = (
        from_address(app, address) for address in ("10.0.0.66", "10.0.0.5", TERMINAL)
    )
    for _attempt in range(SOURCE_FAILURES * 2):
        assert attacker.post("/login", data=WRONG).status_code == 401
    # The attacking machine now waits, even with the right password ...
    assert attacker.post("/login", data=RIGHT).status_code == 401
    # ... and nobody else does: the terminal's own machine and another machine sign in.
    assert terminal.post("/login", data=RIGHT).status_code == 303
    assert office_pc.post("/login", data=RIGHT).status_code == 303


def test_many_machines_guessing_one_account_cannot_stop_the_terminal(
    services: Services,
) -> None:
    app = app_with_guard(services)
    for number in range(ACCOUNT_FAILURES):  # one guess each: no source reaches its own limit
        assert from_address(app, f"10.0.1.{number}").post("/login", data=WRONG).status_code == 401
    # The account is now throttled for every machine on the network ...
    assert from_address(app, "10.0.2.1").post("/login", data=RIGHT).status_code == 401
    # ... except the terminal's own.
    assert from_address(app, TERMINAL).post("/login", data=RIGHT).status_code == 303


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_source(services: Services) -> None:
    app = app_with_guard(services)
    proxy = from_address(app, "127.0.0.1")
    for _attempt in range(SOURCE_FAILURES):
        forwarded = {"X-Forwarded-For": "10.0.0.66"}
        assert proxy.post("/login", data=WRONG, headers=forwarded).status_code == 401
    assert (
        proxy.post("/login", data=RIGHT, headers={"X-Forwarded-For": "10.0.0.66"}).status_code
        == 401
    )
    assert (
        proxy.post("/login", data=RIGHT, headers={"X-Forwarded-For": "10.0.0.5"}).status_code == 303
    )
    # A forwarded address from a machine that is not a configured proxy is ignored.
    spoofer = from_address(app, "10.0.0.77")
    for _attempt in range(SOURCE_FAILURES):
        spoofer.post("/login", data=WRONG, headers={"X-Forwarded-For": "10.0.0.5"})
    assert from_address(app, "10.0.0.5").post("/login", data=RIGHT).status_code == 303


THROTTLED = "10.0.9.9"


def prepare_refusals(services: Services, app: FastAPI) -> None:
    """A disabled account and a machine throttled for ``guard``."""
    add_staff(services, "gone", Role.GUARD, PASSWORD)
    revoke_staff("gone", actor=Actor("test", "test", datetime.now(UTC)), units=services.units)
    for _attempt in range(SOURCE_FAILURES):
        from_address(app, THROTTLED).post("/login", data=WRONG)


def refusals_of_every_kind(app: FastAPI, lang: str, first: int) -> dict[str, Callable[[], Any]]:
    """A sign-in per kind of refusal; the new machines (from ``first``) are not throttled."""
    sources = (f"10.0.{n // 250}.{n % 250 + 1}" for n in range(first, first + 500))

    def fresh(form: dict[str, str], source: str | None = None) -> Callable[[], Any]:
        # A new client each time, for every kind alike (building one is part of the time).
        return lambda: from_address(app, source or next(sources), lang).post("/login", data=form)

    return {
        "wrong password": fresh(WRONG),
        "unknown user": fresh({"username": "guard7", "password": PASSWORD}),
        "throttled": fresh(RIGHT, source=THROTTLED),
        "disabled, wrong password": fresh({"username": "gone", "password": "nope-nope"}),
    }


def test_every_refusal_says_the_same_words_in_both_languages(services: Services) -> None:
    app = app_with_guard(services)
    prepare_refusals(services, app)
    said = {}
    for lang, first in (("zh", 1000), ("en", 2000)):
        answers = {
            kind: refusal(send()) for kind, send in refusals_of_every_kind(app, lang, first).items()
        }
        assert len(set(answers.values())) == 1, (lang, answers)
        said[lang] = next(iter(answers.values()))
    assert said["zh"][0] == said["en"][0] == 401
    assert said["zh"][1] != said["en"][1]


def test_every_refusal_takes_the_same_time(services: Services) -> None:
    app = app_with_guard(services)
    prepare_refusals(services, app)
    kinds = refusals_of_every_kind(app, "zh", 1000)
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _round in range(5):  # interleaved, so a busy moment of the machine hits every kind
        for kind, send in kinds.items():
            started = time.perf_counter()
            assert send().status_code == 401
            timings[kind].append(time.perf_counter() - started)
    medians = {kind: statistics.median(values) for kind, values in timings.items()}
    # Before, a locked account's reply skipped the hash (15x faster) and a disabled one's
    # too. The same work in every case keeps them within a small factor on a busy machine.
    assert max(medians.values()) < 2.5 * min(medians.values()), medians
