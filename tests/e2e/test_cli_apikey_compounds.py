"""``gate apikey create --compound``: a hub's key bound to compounds, as the list shows."""

from __future__ import annotations

import json

from gate.runtime.bootstrap import Services
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import gate


def test_a_key_made_for_compounds_lists_them_and_a_bad_code_is_one_line(
    services: Services,
) -> None:
    env = env_of(services)
    made = gate(
        env, "apikey", "create", "--name", "edge-ruyi", "--scope", "passages:push",
        "--compound", "ruyi", "--compound", "jinhe",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "bound to compounds: ruyi jinhe" in made.stdout
    listed = gate(env, "apikey", "list", "--json")
    (key,) = json.loads(listed.stdout)
    assert (key["scopes"], key["compounds"]) == (["passages:push"], ["ruyi", "jinhe"])
    bad = gate(
        env, "apikey", "create", "--name", "x", "--scope", "passages:push", "--compound", "Ru Yi"
    )
    assert bad.returncode == 1
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "Traceback" not in bad.stderr
