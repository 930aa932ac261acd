"""``gate doctor``: every check an operator would make by hand, read-only, with what to fix.

    config     the settings load (the same loader and messages as every command)
    database   it answers, and its schema is this software's (the start-up guard)
    keys       the data key, the log's chain and anchor keys, the pass keys: present,
               valid, mode 0600, the data key opens the stored numbers, the chain key is
               the one the log is under, the anchor file verifies
    devices    each configured device opened with its driver and asked what it sees
    clock      not behind the last passage, synchronised with a time server
    disk       free space where the data folder and the database live
    upstream   the hub answers this gate's key, and how far behind it is

Nothing is generated or written (no key, no anchor): unlike ``bootstrap``, a missing key
is a finding here. Devices are opened one at a time and closed; run it beside a stopped
``gate serve``, since a serial port opens once.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gate.app.doctor import Finding, judge_clock, judge_disk, judge_key_mode
from gate.app.outbound import DeliveryFailed
from gate.app.sync_status import UPSTREAM, relay_lags, upstream_lag
from gate.domain.errors import ConfigError, RegistryError
from gate.domain.hashchain import chain_key_id
from gate.domain.redaction import mask_urls
from gate.runtime.bootstrap import open_database
from gate.runtime.doctor_devices import device_findings
from gate.runtime.keyfile import SETTING, key_path, load_data_key, read_key_file
from gate.runtime.log_keys import (
    ANCHOR_SETTING,
    CHAIN_SETTING,
    anchor_file_path,
    anchor_key_path,
    chain_key_path,
)
from gate.runtime.outbound_wiring import configured_sinks
from gate.runtime.settings import Settings, load_settings
from recognition.passes import key_dir
from registry.chain_check import chain_state
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.delivery_cursors import SqlCursorStore
from registry.log_anchors import AnchorKey, AnchorLog
from registry.models import Document
from registry.passages import SqlPassageReader

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def run_doctor(
    config_file: Path | None,
    *,
    min_free_mb: float = 1024,
    device_seconds: float = 3.0,
    clock: Clock = lambda: datetime.now(UTC),
) -> list[Finding]:
    """Every check's finding, in the order of the module docstring."""
    try:
        settings = load_settings(config_file)
    except ConfigError as exc:
        fix = (
            "correct that key in the config file or its GATE_ variable "
            "(every key: deploy/gate.example.toml)"
        )
        return [Finding("config", False, str(exc), fix)]
    source = str(config_file) if config_file else "defaults and GATE_ variables (or $GATE_CONFIG)"
    findings = [Finding("config", True, f"{source}; data folder {settings.data_dir}")]
    url = settings.effective_database_url
    missing = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    if missing is not None and not missing.exists():  # opening it would create it
        findings.append(
            Finding(
                "database",
                False,
                f"the SQLite file {missing} does not exist",
                "gate db upgrade for a new gate, or gate restore BACKUP to bring one back",
            )
        )
        findings += _without_database(settings, min_free_mb, clock())
    else:
        database = open_database(settings)
        try:
            schema = _database(database)
            findings.append(schema)
            usable = database if schema.ok else None
            findings += _keys(settings, usable)
            findings.append(_clock(usable, clock()))
            findings += _disk(settings, min_free_mb)
            findings.append(_upstream(settings, usable, clock()))
        finally:
            database.dispose()
    findings += device_findings(settings, device_seconds)
    return findings


def _without_database(settings: Settings, min_free_mb: float, now: datetime) -> list[Finding]:
    return [
        *_keys(settings, None),
        _clock(None, now),
        *_disk(settings, min_free_mb),
        _upstream(settings, None, now),
    ]


def _database(database: Database) -> Finding:
    try:
        database.require_current_schema()
    except RegistryError as exc:
        fix = "start the database server, or correct database_url"
        if "gate db upgrade" in str(exc):
            fix = "gate db upgrade"
        elif "newer" in str(exc):
            fix = "install the release of the gate service that matches this database"
        return Finding("database", False, str(exc), fix)
    return Finding(
        "database", True, f"{database.describe()} at schema {database.current_revision()}"
    )


def _keys(settings: Settings, database: Database | None) -> list[Finding]:
    findings = [_data_key(settings, database), _chain_key(settings, database)]
    findings += _anchor_key(settings)
    folder = key_dir(settings.data_dir)
    passes = sorted(folder.glob("*.key")) if folder.is_dir() else []
    findings += [judge_key_mode("pass keys", str(path), path.stat().st_mode) for path in passes]
    if not passes:
        findings.append(
            Finding("pass keys", True, f"none yet in {folder} (made at the first pass)")
        )
    return findings


def _data_key(settings: Settings, database: Database | None) -> Finding:
    path, may_generate = key_path(settings)
    stored = _one_document(database)
    if not path.exists():
        if may_generate and stored is None:
            return Finding("data key", True, f"{path} not made yet (the first start makes it)")
        return Finding(
            "data key",
            False,
            f"key file {path} does not exist"
            + ("; the registry holds encrypted document numbers" if stored is not None else ""),
            f"restore it from the backup (gate restore), or set {SETTING} to where it is",
        )
    try:
        key = load_data_key(settings)
    except ConfigError as exc:
        return Finding("data key", False, str(exc), f"put the right key file at {path}")
    mode = judge_key_mode("data key", str(path), path.stat().st_mode)
    if stored is not None:
        try:
            PersonalDataCipher(key.material).decrypt("document", stored)
        except (RegistryError, ValueError):
            return Finding(
                "data key",
                False,
                f"{path} does not open the stored document numbers: it is another key",
                "restore the key file backed up with this database (gate restore)",
            )
    return mode


def _one_document(database: Database | None) -> bytes | None:
    if database is None:
        return None
    with database.engine.connect() as connection:
        found = connection.scalar(select(Document.number_cipher).limit(1))
    return bytes(found) if found is not None else None


def _chain_key(settings: Settings, database: Database | None) -> Finding:
    path = chain_key_path(settings)
    recorded = chain_state(database).key_id if database is not None else None
    if not path.exists():
        if recorded is None:
            return Finding("chain key", True, f"{path} not made yet (the first start makes it)")
        return Finding(
            "chain key",
            False,
            f"the passage log is keyed under chain key {recorded} but {path} does not exist",
            "restore that key file from the backup (a new key would not verify the log)",
        )
    try:
        key_id = chain_key_id(read_key_file(path, setting=CHAIN_SETTING))
    except ConfigError as exc:
        return Finding("chain key", False, str(exc), f"restore {path} from the backup")
    if recorded is not None and key_id != recorded:
        return Finding(
            "chain key",
            False,
            f"{path} holds chain key {key_id}, the log is keyed under {recorded}",
            "restore the right key file from the backup",
        )
    return judge_key_mode("chain key", str(path), path.stat().st_mode)


def _anchor_key(settings: Settings) -> list[Finding]:
    path, anchors = anchor_key_path(settings), anchor_file_path(settings)
    if not path.exists():
        if not anchors.exists():
            return [Finding("anchor key", True, f"{path} not made yet (the first start makes it)")]
        return [
            Finding(
                "anchor key",
                False,
                f"{path} does not exist but {anchors} holds anchors it signed",
                "restore it from the backup (gate restore)",
            )
        ]
    try:
        key = AnchorKey(read_key_file(path, setting=ANCHOR_SETTING))
    except (ConfigError, ValueError) as exc:
        return [Finding("anchor key", False, str(exc), f"restore {path} from the backup")]
    findings = [judge_key_mode("anchor key", str(path), path.stat().st_mode)]
    found = AnchorLog(anchors, key, compound=settings.compound.code).read()
    if found.problems:
        findings.append(
            Finding(
                "anchors",
                False,
                f"{anchors}: {found.problems[0]}",
                "gate log verify names every problem; restore the anchor file from the backup",
            )
        )
    else:
        findings.append(Finding("anchors", True, f"{anchors}: {len(found.anchors)} verify"))
    return findings


def _clock(database: Database | None, now: datetime) -> Finding:
    last = SqlPassageReader(database).tail(1) if database is not None else []
    return judge_clock(
        now, last_passage=last[-1].entry.at if last else None, synchronised=_ntp_synchronised()
    )


def _ntp_synchronised() -> bool | None:
    tool = shutil.which("timedatectl")
    if tool is None:
        return None
    try:
        said = subprocess.run(  # noqa: S603 (a fixed command, no shell)
            [tool, "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = said.stdout.strip()
    return {"yes": True, "no": False}.get(value)


def _disk(settings: Settings, min_free_mb: float) -> list[Finding]:
    places = [settings.data_dir]
    url = settings.effective_database_url
    if url.startswith("sqlite:///"):
        places.append(Path(url.removeprefix("sqlite:///")).parent)
    findings, seen = [], set()
    for place in places:
        existing = next(p for p in [place, *place.resolve().parents] if p.exists())
        device = existing.stat().st_dev
        if device in seen:
            continue
        seen.add(device)
        usage = shutil.disk_usage(existing)
        findings.append(
            judge_disk(
                str(existing), free=usage.free, total=usage.total, min_free=int(min_free_mb * 2**20)
            )
        )
    return findings


def _upstream(settings: Settings, database: Database | None, now: datetime) -> Finding:
    upstream = settings.upstream
    if upstream.url is None:
        return Finding("upstream", True, "not configured: passages stay on this gate")
    try:
        sinks = configured_sinks(settings)
    except ConfigError as exc:
        return Finding("upstream", False, str(exc), "put the hub's API key for this compound there")
    sink: Any = next(sink for sink in sinks if sink.name == UPSTREAM)
    try:
        hub_has = sink.hub_cursor()
    except DeliveryFailed as exc:
        return Finding(
            "upstream",
            False,
            mask_urls(str(exc)),
            "check the network to the hub and that its API key (passages:push) is still valid",
        )
    finally:
        for each in sinks:
            each.close()
    said = f"{mask_urls(upstream.url)} answers; it holds up to seq {hub_has}"
    if database is None:
        return Finding("upstream", True, said)
    lag = upstream_lag(
        relay_lags(
            cursors=SqlCursorStore(database),
            passages=SqlPassageReader(database),
            expected=[UPSTREAM],
        )
    )
    if lag is not None and lag.lag(now) > timedelta(seconds=upstream.lag_warning_seconds):
        return Finding(
            "upstream",
            False,
            f"{said}; {lag.behind} passages not yet sent, the oldest {lag.lag(now)} ago",
            "is gate serve running? gate sync status shows the relay; its log says why it fails",
        )
    return Finding("upstream", True, f"{said}; {lag.behind if lag else 0} passages waiting")
