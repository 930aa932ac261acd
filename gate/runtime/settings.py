"""Configuration: one pydantic-settings tree, read once by the composition root.

Precedence, highest first:

1. values passed in code (the CLI's own flags, tests);
2. environment variables ``GATE_*``; nested keys use ``__`` (``GATE_SERVER__PORT=8080``);
3. the TOML file named by ``--config`` or ``GATE_CONFIG`` (see ``deploy/gate.example.toml``);
4. the defaults below.

Every nested model forbids unknown keys, so a typo fails at start-up naming the key.
Secrets never live here: the data key is read from a file (see ``gate.runtime.keyfile``).
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from devices.lane_settings import LaneSettings
from gate.domain.errors import ConfigError
from gate.domain.redaction import mask_urls


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    """Where ``gate serve`` listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class SecretsSettings(_Section):
    """Where secrets come from; never the secrets themselves."""

    key_file: Path | None = Field(
        default=None,
        description=(
            "File holding the personal-data key (base64 of 32 random bytes). Default: "
            "$CREDENTIALS_DIRECTORY/gate-data-key under systemd, else <data_dir>/secret.key, "
            "generated on first start."
        ),
    )


class WebSettings(_Section):
    """The staff web app."""

    idle_lock_minutes: float = Field(
        default=10, gt=0, description="An idle session locks; the PIN opens it again"
    )
    session_hours: float = Field(
        default=14,
        gt=0,
        le=24 * 7,
        description="A session ends this long after its sign-in (a shift and a margin): "
        "the PIN no longer opens it, only a full sign-in",
    )
    secure_cookies: bool | Literal["auto"] = Field(
        default="auto",
        description="Mark cookies Secure: auto when the browser came over TLS (directly, or "
        "through a trusted proxy saying X-Forwarded-Proto: https); true or false to force",
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=("127.0.0.1", "::1"),
        description="Reverse proxies (addresses or networks) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; from anyone else those headers are ignored",
    )
    terminal_addresses: tuple[str, ...] = Field(
        default=("127.0.0.1", "::1"),
        description="The guard terminal's own machines: many machines guessing an account's "
        "password never hold these back, only their own wrong passwords do",
    )
    login_origins: tuple[str, ...] = Field(
        default=(),
        description="Origins besides the service's own that may post the sign-in form "
        "(scheme://host[:port], e.g. when a proxy does not pass the Host header on)",
    )
    max_body_kb: int = Field(default=256, gt=0, description="Largest form a page accepts")

    @field_validator("trusted_proxies", "terminal_addresses")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item)  # strict: 10.0.0.1/8 is a typo, not a network
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an address or a network") from exc
        return value

    @field_validator("login_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not re.fullmatch(r"https?://[^/\s]+", item):
                raise ValueError(f"{item!r} is not an origin like https://gate.example.org")
        return tuple(item.lower() for item in value)


class ApiSettings(_Section):
    """The machine API under ``/api/v1`` (the district platform)."""

    requests_per_minute: int = Field(
        default=600, gt=0, description="Requests one API key may make in any minute; then 429"
    )
    feed_workers: int = Field(
        default=1,
        ge=0,
        le=8,
        description="Processes that read and encode the district feed's answers, so a "
        "district pulling flat out never slows the lanes; 0: in the serving process",
    )


class HubSettings(_Section):
    """Hub mode: this service takes the passages of a district's gates (``docs/hub.md``)."""

    enabled: bool = Field(
        default=False,
        description="Serve POST /api/v1/ingest and the district feed across compounds",
    )
    max_body_mb: float = Field(
        default=16.0, gt=0, le=256, description="Largest push (5000 items are about 6 MB)"
    )


class LogSettings(_Section):
    """The passage log's keyed chain and its anchors (``docs/reliability.md``)."""

    chain_key_file: Path | None = Field(
        default=None,
        description="HMAC key of the chain (base64 of 32 random bytes); default: "
        "<data_dir>/log-keys/chain.key, generated while the log has no key yet",
    )
    anchor_key_file: Path | None = Field(
        default=None,
        description="Ed25519 seed that signs anchors; default: <data_dir>/log-keys/anchor.key",
    )
    anchor_file: Path | None = Field(
        default=None, description="The append-only anchors; default: <data_dir>/log-anchors.jsonl"
    )
    anchor_every: int = Field(default=100, ge=1, description="Anchor after this many passages")
    anchor_minutes: float = Field(
        default=10.0, gt=0, description="... or this long after the last anchor, if the log grew"
    )


class LoggingSettings(_Section):
    """The service's own log lines (``[log]`` is the passage log); ``log_level`` sets the level.

    No ``file``: lines go to stderr, which systemd already writes to the journal (rotated
    by journald's own limits). A ``file`` is rotated at ``max_mb``, ``backups`` kept.
    """

    format: Literal["text", "json"] = Field(
        default="text", description="text: one readable line; json: one JSON object a line"
    )
    file: Path | None = Field(default=None, description="Write here instead of stderr")
    max_mb: float = Field(default=10.0, gt=0, description="The file is rotated at this size")
    backups: int = Field(default=5, ge=1, le=100, description="Rotated files kept")


class ImportSettings(_Section):
    """Limits that keep a bad spreadsheet from exhausting the gate's memory."""

    max_file_mb: float = Field(default=20.0, gt=0)
    max_rows: int = Field(default=100_000, gt=0)


class CompoundSettings(_Section):
    """The compound this gate belongs to."""

    name: str = Field(default="如意小区", min_length=1)
    code: str = Field(default="ruyi", pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    # The standard address above the buildings (GA/T 2000.32 levels), for the district feed.
    province: str = Field(default="内蒙古自治区", max_length=40)
    city: str = Field(default="呼和浩特市", max_length=40)
    district: str = Field(default="新城区", max_length=40)
    street: str = Field(default="", max_length=40, description="街道 or 乡镇")
    community: str = Field(default="", max_length=40, description="社区 or 居委会")


class GateSettings(_Section):
    """The entrance itself."""

    @property
    def lane_ids(self) -> frozenset[str]:
        """The configured lane ids."""
        return frozenset(lane.id for lane in self.lanes)

    lanes: tuple[LaneSettings, ...] = Field(
        default=(LaneSettings(id="main"),),
        min_length=1,
        description="The lanes and their devices; a passage at any other lane is refused",
    )
    snapshot_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the service checks the registry for changes"
    )
    device_silence_seconds: float = Field(
        default=30.0, gt=0, description="A device silent this long raises an alarm"
    )


class MqttSettings(_Section):
    """The building's MQTT broker, for passage and device events (off unless a host is set)."""

    host: str | None = Field(default=None, description="Broker host; none: no MQTT")
    port: int = Field(default=1883, ge=1, le=65535)
    topic_prefix: str = Field(default="gate", pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_/-]{0,63}$")
    client_id: str | None = Field(default=None, max_length=64, description="Default: gate-<code>")
    username: str | None = None
    password_file: Path | None = Field(
        default=None, description="File holding the broker password (never the password here)"
    )
    keepalive_seconds: int = Field(default=30, ge=5, le=3600)


class WebhookSettings(_Section):
    """One HTTP endpoint that receives the passages, signed (see api/outbound/webhook.py)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    url: str = Field(pattern=r"^https?://")
    secret_file: Path = Field(description="File holding the HMAC secret shared with the receiver")
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)


class EventsSettings(_Section):
    """Events out: MQTT and webhooks, each delivered from its own cursor on the log."""

    mqtt: MqttSettings = MqttSettings()
    webhooks: tuple[WebhookSettings, ...] = ()
    batch: int = Field(default=200, ge=1, le=5000, description="Passages per delivery")
    poll_seconds: float = Field(
        default=1.0, gt=0, description="How often passages of other processes are looked for"
    )
    max_backoff_seconds: float = Field(
        default=60.0, gt=0, description="Longest wait between tries while a sink is down"
    )


class UpstreamSettings(_Section):
    """Store-and-forward to the district hub (off unless ``url`` is set)."""

    url: str | None = Field(default=None, pattern=r"^https?://", description="The hub's base URL")
    key_file: Path | None = Field(
        default=None, description="File holding this compound's hub API key (passages:push)"
    )
    batch: int = Field(default=1000, ge=1, le=5000, description="Passages per push")
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    lag_warning_seconds: float = Field(
        default=300.0,
        gt=0,
        description="The oldest passage not yet at the hub older than this: warn (log, terminal)",
    )


class ClockSettings(_Section):
    """This machine's clock against a reference (``gate clock check``; alarm on the terminal).

    The reference: ``ntp_server`` (SNTP) if set, else the hub of ``[upstream] url`` (its
    HTTP Date), else none and no check.
    """

    ntp_server: str | None = Field(
        default=None, description="host, host:port or [v6]:port of an NTP server"
    )
    check_minutes: float = Field(default=60.0, gt=0, description="How often the service checks")
    alarm_seconds: float = Field(
        default=10.0, gt=0, description="Off by more than this: alarm (IEC 60839-11-1: 10 s)"
    )
    timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="Wait for an answer")


class FaceSettings(_Section):
    """Face recognition (opt-in per person; ``docs/faces.md``). Off: no workers, no models."""

    enabled: bool = Field(default=False, description="Run the face workers on the lanes' cameras")
    workers: int = Field(default=1, ge=1, le=8, description="Worker processes (one core each)")
    strict: float = Field(default=0.54, gt=0, lt=2, description="A match is at most this far")
    loose: float = Field(default=0.60, gt=0, lt=2, description="Up to this far: guard confirms")
    margin: float = Field(
        default=0.08, ge=0, lt=2, description="A match is this much nearer than the next person"
    )
    auto_open: bool = Field(
        default=False,
        description="A face match opens the barrier by itself; off: the guard confirms",
    )
    notice_version: str = Field(
        default="2026-01", min_length=1, max_length=32, description="Privacy notice consented to"
    )
    min_face_px: int = Field(
        default=60, ge=20, description="Enrolment: pixels between the outer eye corners at least"
    )
    min_sharpness: float = Field(
        default=25.0, ge=0, description="Enrolment: variance of the face's Laplacian at least"
    )
    max_turn: float = Field(
        default=0.25, gt=0, le=1, description="Enrolment: how far from frontal (0 frontal)"
    )
    unknown_snapshot_hours: float = Field(
        default=72, gt=0, description="Pictures of unknown faces are deleted after this"
    )
    snapshot_days: float = Field(
        default=30, gt=0, description="Pictures of known faces are deleted after this"
    )


class RetentionSettings(_Section):
    """How long each class of personal data is kept (``gate retention run``; the service
    runs it every few hours). Face snapshots: ``[faces] unknown_snapshot_hours`` and
    ``snapshot_days``; templates go at withdrawal or move-out (``docs/reliability.md``)."""

    passage_days: float = Field(
        default=365, gt=0, description="Passages older than this are deleted (a signed checkpoint)"
    )
    visitor_days: float = Field(
        default=30, gt=0, description="Visitors are deleted this long after their window ended"
    )
    emergency_ended: datetime | None = Field(
        default=None,
        description="The emergency's end (timezone-aware): from then on every epidemic-mode "
        "record (quarantine statuses, temperatures, household needs) is deleted",
    )

    @field_validator("emergency_ended")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time zone, e.g. 2026-06-30T00:00:00+08:00")
        return value


class Settings(BaseSettings):
    """The effective configuration of one gate service."""

    model_config = SettingsConfigDict(
        env_prefix="GATE_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in <data_dir>/gate.db"
    )
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    server: ServerSettings = ServerSettings()
    secrets: SecretsSettings = SecretsSettings()
    imports: ImportSettings = ImportSettings()
    log: LogSettings = LogSettings()
    logging: LoggingSettings = LoggingSettings()
    web: WebSettings = WebSettings()
    api: ApiSettings = ApiSettings()
    hub: HubSettings = HubSettings()
    compound: CompoundSettings = CompoundSettings()
    gate: GateSettings = GateSettings()
    events: EventsSettings = EventsSettings()
    upstream: UpstreamSettings = UpstreamSettings()
    clock: ClockSettings = ClockSettings()
    faces: FaceSettings = FaceSettings()
    retention: RetentionSettings = RetentionSettings()

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql+psycopg:// URLs are supported")
        return value

    @property
    def effective_database_url(self) -> str:
        """The URL actually used: the configured one or the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.data_dir / 'gate.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the configuration; raise ``ConfigError`` naming the first bad key."""
    path = config_file or _env_config_path()
    if path is not None and not path.is_file():
        raise ConfigError(f"config file {path} does not exist", key="config")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        return _FromFile(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "config"
        raise ConfigError(_describe(error), key=key) from None
    except SettingsError as exc:  # e.g. GATE_SERVER=8080: a section needs JSON or __ keys
        field = re.search(r'field "([^"]+)"', str(exc))
        raise ConfigError(
            f"{exc}; set one key of a section as GATE_<SECTION>__<KEY>",
            key=field.group(1) if field else "config",
        ) from None
    except (OSError, ValueError) as exc:  # a TOML syntax error, an unreadable file
        raise ConfigError(f"cannot read {path}: {exc}", key="config") from None


def _env_config_path() -> Path | None:
    value = os.environ.get("GATE_CONFIG")
    return Path(value) if value else None


def _describe(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown setting (check the spelling against deploy/gate.example.toml)"
    value = error.get("input")
    if error["loc"][:1] == ("secrets",):
        # Someone may have pasted the key itself where its file name belongs.
        return f"{error['msg']} (value not shown)"
    # Any URL typed into any key (a database, a camera, a broker) may carry a password.
    return mask_urls(f"{error['msg']} (got {value!r})")


def _masked(value: Any) -> Any:
    """``value`` (plain data) with every URL in every string masked."""
    if isinstance(value, str):
        return mask_urls(value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective configuration as plain data, with anything secret masked."""
    data = settings.model_dump(mode="json")
    data["effective_database_url"] = settings.effective_database_url
    for hook in data["events"]["webhooks"]:  # a receiver's token may ride in any parameter
        base, _, query = hook["url"].partition("?")
        hook["url"] = f"{base}?***" if query else base
    masked: dict[str, Any] = _masked(data)
    return masked
