"""The composition of events out: one relay per configured sink (MQTT, each webhook)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from api.outbound.mqtt import MqttSink
from api.outbound.upstream import UpstreamSink
from api.outbound.webhook import WebhookSink
from gate.app.outbound import OutboundRelay, OutboundSink
from gate.domain.backoff import Backoff
from gate.domain.errors import ConfigError
from gate.runtime.settings import Settings

if TYPE_CHECKING:  # the composition root imports this module
    from gate.runtime.bootstrap import Services


def _secret(path: Path, key: str) -> bytes:
    try:
        secret = path.read_bytes().strip()
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}", key=key) from None
    if len(secret) < 16:
        raise ConfigError(f"{path} holds fewer than 16 bytes: too short a secret", key=key)
    return secret


def configured_sinks(
    settings: Settings, *, anchor: Callable[[], bytes | None] | None = None
) -> list[OutboundSink]:
    """The sinks the settings name (none by default); ``anchor`` rides with the hub push."""
    events = settings.events
    sinks: list[OutboundSink] = []
    mqtt = events.mqtt
    if mqtt.host is not None:
        password = None
        if mqtt.password_file is not None:
            password = _secret(mqtt.password_file, "events.mqtt.password_file").decode()
        sinks.append(
            MqttSink(
                host=mqtt.host,
                port=mqtt.port,
                compound=settings.compound.code,
                prefix=mqtt.topic_prefix,
                client_id=mqtt.client_id,
                username=mqtt.username,
                password=password,
                keepalive=mqtt.keepalive_seconds,
            )
        )
    for index, hook in enumerate(events.webhooks):
        secret = _secret(hook.secret_file, f"events.webhooks.{index}.secret_file")
        sinks.append(
            WebhookSink(name=hook.name, url=hook.url, secret=secret, timeout=hook.timeout_seconds)
        )
    upstream = settings.upstream
    if upstream.url is not None:
        if upstream.key_file is None:
            raise ConfigError("a hub URL needs the file of its key", key="upstream.key_file")
        key = _secret(upstream.key_file, "upstream.key_file").decode()
        sinks.append(
            UpstreamSink(
                url=upstream.url,
                key=key,
                compound=settings.compound.code,
                timeout=upstream.timeout_seconds,
                anchor=anchor,
            )
        )
    return sinks


def build_relays(
    services: Services,
    *,
    clock: Callable[[], datetime],
    sinks: list[OutboundSink] | None = None,
) -> list[OutboundRelay]:
    """A relay per sink over the log (``sinks``: the configured ones unless given)."""
    settings = services.settings
    anchor = services.anchors.log.latest_json
    chosen = configured_sinks(settings, anchor=anchor) if sinks is None else sinks
    cursors = services.delivery_cursors
    passages = services.passages

    def log_head() -> int:
        last = passages.tail(1)
        return last[-1].seq if last else 0

    def relay(sink: OutboundSink) -> OutboundRelay:
        # A subscriber starts at the log's end; the hub is sent all it does not have.
        upstream = isinstance(sink, UpstreamSink)
        return OutboundRelay(
            sink=sink,
            reader=services.feed,
            cursors=cursors,
            compound=services.compound,
            pseudonym=services.pseudonym,
            head=sink.hub_cursor if isinstance(sink, UpstreamSink) else log_head,
            clock=clock,
            batch=settings.upstream.batch if upstream else settings.events.batch,
            poll_seconds=settings.events.poll_seconds,
            backoff=Backoff(cap=settings.events.max_backoff_seconds),
        )

    return [relay(sink) for sink in chosen]
