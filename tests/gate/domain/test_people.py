"""The registry's vocabulary: phone numbers, the fever threshold, masked names."""

from __future__ import annotations

import pytest

from gate.domain.people import FEVER_FROM, mask_name, normalize_phone
from gate.domain.rules import DEFAULT_RULES, RuleKind


@pytest.mark.parametrize(
    ("typed", "phone"),
    [
        ("13800001234", "13800001234"),
        ("138-0000 1234", "13800001234"),
        ("(0471) 6961234", "04716961234"),
        ("+8613800001234", "+8613800001234"),
    ],
)
def test_a_phone_keeps_its_digits_and_a_leading_plus(typed: str, phone: str) -> None:
    assert normalize_phone(typed) == phone


@pytest.mark.parametrize("typed", ["", "12-34", "138abc01234", "1" * 16, "86+13800001234"])
def test_what_cannot_be_a_phone_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="7 to 15 digits"):
        normalize_phone(typed)


def test_the_fever_rule_starts_at_the_threshold_the_round_flags() -> None:
    (fever,) = [rule for rule in DEFAULT_RULES if rule.kind is RuleKind.FEVER]
    assert fever.params["threshold"] == FEVER_FROM == 37.3


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三丰", "张*丰"), ("李梅", "李*"), ("王", "王"), ("John Smith", "J*** S****")],
)
def test_a_name_is_masked_for_lists(name: str, masked: str) -> None:
    assert mask_name(name) == masked
