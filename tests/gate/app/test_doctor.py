"""The doctor's judgments of the clock, the disk and a key file's mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gate.app.doctor import Finding, all_well, judge_clock, judge_disk, judge_key_mode

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_clock_behind_the_last_passage_is_a_finding_a_few_seconds_are_not() -> None:
    behind = judge_clock(NOW, last_passage=NOW + timedelta(minutes=5), synchronised=True)
    assert not behind.ok
    assert "before the last passage" in behind.seen
    assert "timedatectl" in behind.fix
    assert judge_clock(NOW, last_passage=NOW + timedelta(seconds=20), synchronised=True).ok


def test_a_clock_in_the_past_or_unsynchronised_is_a_finding() -> None:
    assert not judge_clock(
        datetime(2000, 1, 1, tzinfo=UTC), last_passage=None, synchronised=None
    ).ok
    unsynchronised = judge_clock(NOW, last_passage=None, synchronised=False)
    assert not unsynchronised.ok
    assert "set-ntp" in unsynchronised.fix
    assert judge_clock(NOW, last_passage=NOW, synchronised=None).ok


def test_free_space_below_the_minimum_is_a_finding() -> None:
    low = judge_disk("/var/lib/gate", free=100 * 2**20, total=2**40, min_free=500 * 2**20)
    assert not low.ok
    assert "below 500 MiB" in low.fix
    assert judge_disk("/var/lib/gate", free=2**30, total=2**40, min_free=500 * 2**20).ok


def test_a_key_readable_by_others_is_a_finding_with_its_chmod() -> None:
    assert judge_key_mode("data key", "/etc/gate/data.key", 0o100600).ok
    loose = judge_key_mode("data key", "/etc/gate/data.key", 0o100640)
    assert (loose.ok, loose.fix) == (False, "chmod 600 /etc/gate/data.key")
    assert not all_well([Finding("x", True, ""), loose])
