"""Passages and device status to an MQTT broker (paho-mqtt), QoS 1.

Topics: ``<prefix>/<compound>/<lane>/passage`` for each passage (a feed item as JSON),
``<prefix>/<compound>/<lane>/device/<kind>`` for a device's status (retained, so a
subscriber that connects later learns the state at once), and ``<prefix>/<compound>/status``
``online``/``offline`` (retained; ``offline`` is the last will, sent by the broker if the
gate vanishes). paho's network loop runs in its own thread and reconnects by itself; a
batch counts as delivered up to the first message the broker did not acknowledge
(PUBACK) within the timeout, so the relay resends from there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gate.app.outbound import DeliveryFailed

logger = logging.getLogger(__name__)


class MqttSink:
    """``OutboundSink`` on one broker connection."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        compound: str,
        prefix: str = "gate",
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 30,
        ack_timeout: float = 5.0,
    ) -> None:
        self.name = f"mqtt:{host}:{port}"
        self._prefix, self._compound = prefix, compound
        self._ack_timeout = ack_timeout
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or f"gate-{compound}",
            clean_session=True,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.will_set(self.topic("status"), b"offline", qos=1, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._connected
        self._client.on_disconnect = self._disconnected
        self._client.connect_async(host, port, keepalive=keepalive)
        self._client.loop_start()

    def topic(self, *parts: str) -> str:
        """``<prefix>/<compound>/<parts...>``."""
        return "/".join((self._prefix, self._compound, *parts))

    def _connected(
        self, client: mqtt.Client, _data: Any, _flags: Any, reason: Any, _p: Any
    ) -> None:
        if reason.is_failure:
            logger.warning("MQTT broker refused the connection: %s", reason)
            return
        logger.info("MQTT connected to %s", self.name)
        client.publish(self.topic("status"), b"online", qos=1, retain=True)

    def _disconnected(
        self, _client: mqtt.Client, _data: Any, _flags: Any, reason: Any, _p: Any
    ) -> None:
        logger.info("MQTT disconnected from %s: %s", self.name, reason)

    def _wait_connected(self) -> None:
        deadline = time.monotonic() + self._ack_timeout
        while not self._client.is_connected():
            if time.monotonic() > deadline:
                raise DeliveryFailed(f"no connection to the broker {self.name}")
            time.sleep(0.05)

    def deliver(self, items: Sequence[dict[str, Any]]) -> int:
        """Publish each item to its lane's topic; how many the broker acknowledged in order."""
        self._wait_connected()
        infos = [
            self._client.publish(self.topic(item["lane"], "passage"), orjson.dumps(item), qos=1)
            for item in items
        ]
        deadline = time.monotonic() + self._ack_timeout
        for index, info in enumerate(infos):
            if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
                return self._taken(index, f"publish refused ({mqtt.error_string(info.rc)})")
            try:
                info.wait_for_publish(timeout=max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as error:  # the message was dropped
                return self._taken(index, str(error))
            if not info.is_published():
                return self._taken(index, "no acknowledgement in time")
        return len(items)

    @staticmethod
    def _taken(index: int, reason: str) -> int:
        if index == 0:
            raise DeliveryFailed(reason)
        return index

    def device_status(self, status: dict[str, Any]) -> None:
        """Publish a device's status, retained."""
        self._wait_connected()
        info = self._client.publish(
            self.topic(status["lane"], "device", status["device"]),
            orjson.dumps(status),
            qos=1,
            retain=True,
        )
        try:
            info.wait_for_publish(timeout=self._ack_timeout)
        except (RuntimeError, ValueError) as error:
            raise DeliveryFailed(str(error)) from None
        if not info.is_published():
            raise DeliveryFailed("device status not acknowledged in time")

    def close(self) -> None:
        """Say ``offline`` (retained) and disconnect."""
        if self._client.is_connected():
            self._client.publish(self.topic("status"), b"offline", qos=1, retain=True)
        self._client.disconnect()
        self._client.loop_stop()
