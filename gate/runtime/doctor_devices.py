"""``gate doctor``'s device check: each configured device opened with its driver and asked.

Each device is opened alone, watched for a few seconds and closed; nothing is moved (a
barrier is probed, never pulsed) and nothing read is shown (no card's number, no code's
text). A serial port opens once: stop ``gate serve`` first.
"""

from __future__ import annotations

import time
from typing import Any

from devices.drivers import open_driver
from gate.app.doctor import Finding
from gate.domain.device_ports import DeviceState
from gate.domain.errors import GateError
from gate.domain.redaction import mask_urls
from gate.runtime.bootstrap import DEVICE_KINDS
from gate.runtime.settings import Settings


def device_findings(settings: Settings, seconds: float) -> list[Finding]:
    """One finding a configured device, in lane order ("none configured" if there is none)."""
    findings = []
    for lane in settings.gate.lanes:
        for kind in DEVICE_KINDS:
            config = getattr(lane, kind)
            if config is not None:
                findings.append(_device(settings, lane.id, kind, config, seconds))
    if not findings:
        findings.append(Finding("devices", True, "none configured"))
    return findings


def _device(settings: Settings, lane: str, kind: str, config: Any, seconds: float) -> Finding:
    check = f"device {lane}/{kind}"
    try:
        device = open_driver(config, name=f"{lane}-{kind}", data_dir=settings.data_dir)
    except GateError as exc:
        return Finding(check, False, mask_urls(str(exc)), "correct the device's config")
    try:
        seen = _look(device, kind, seconds)
        health = device.health()
    except GateError as exc:
        return Finding(check, False, mask_urls(str(exc)), _device_fix(kind))
    finally:
        device.close()
    text = f"{config.type}: {seen}"
    if health.state is DeviceState.OFFLINE:
        detail = mask_urls(health.detail)
        return Finding(check, False, f"{config.type}: offline: {detail}", _device_fix(kind))
    if health.state is DeviceState.DEGRADED:
        return Finding(
            check, False, f"{text}; degraded: {mask_urls(health.detail)}", _device_fix(kind)
        )
    return Finding(check, True, text)


def _look(device: Any, kind: str, seconds: float) -> str:
    """What the device sees within ``seconds``; never a document number or a code's text."""
    if kind == "id_reader":
        connect = getattr(device, "connect", None)
        if callable(connect):
            connect(timeout=seconds)
        card = device.read_card(min(seconds, 1.0))
        return (
            "answers; no card on it"
            if card is None
            else f"answers; a {card.card_type.value} card on it"
        )
    if kind == "qr_scanner":
        code = device.read_code(min(seconds, 1.0))
        return (
            "open; nothing scanned" if code is None else f"open; a code of {len(code)} characters"
        )
    if kind == "camera":
        deadline = time.monotonic() + seconds
        while (frame := device.latest_frame()) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if frame is None:
            return f"no frame within {seconds:.0f} s"
        height, width = frame.image.shape[:2]
        return f"a {width}x{height} frame"
    if kind == "thermometer":
        value = device.read_celsius(min(seconds, 1.0))
        return "answers; nothing measured" if value is None else f"answers; reads {value:.1f} °C"
    probe = getattr(device, "probe", None)  # a barrier: asked, never moved
    if callable(probe):
        probe()
    return "answers (not moved)"


def _device_fix(kind: str) -> str:
    return {
        "id_reader": "check the reader's cable and port (udev: /dev/gate-idreader) and that "
        "gate serve is stopped; gate devices read-id --port ... reads one by hand",
        "qr_scanner": "check the scanner's cable and port, and that gate serve is stopped",
        "camera": "check the camera's URL, its network and its password file",
        "barrier": "check the relay's power, address and port",
        "thermometer": "check the thermometer's power, address and port",
    }[kind]
