"""The guard's search: what is typed is matched as text, never as a LIKE pattern."""

from __future__ import annotations

import pytest

from gate.app.search import search_persons
from tests.api.test_office_support import Compound
from tests.gate.app.office_support import office


@pytest.mark.parametrize("text", ["%", "_", "%%", "_%_", "\\", "/", "%王", "王_"])
def test_like_wildcards_are_plain_characters(compound: Compound, text: str) -> None:
    found = search_persons(
        text, actor=office(), units=compound.services.units, passages=compound.services.passages
    )
    assert found == []


def test_a_name_is_still_found_by_a_part_of_it(compound: Compound) -> None:
    found = search_persons(
        "王", actor=office(), units=compound.services.units, passages=compound.services.passages
    )
    assert [match.person.ref for match in found] == [compound.wang]
