"""``EmulatedSerialQrScanner``: the real serial driver reading a scanner that shows passes.

Chosen by config like any driver (``type = "serial-qr-emulated"``): a ``PtyQrScanner``
on a pseudo-terminal "scans", every ``interval`` seconds, the next pass of ``passes``
(default ``<data_dir>/demo/passes.json``, written by ``gate demo seed``), rendered as a
phone would show it at that moment (``gate.domain.passes.pass_text``). An entry may be
shown ``shown_late_s`` seconds late, as a screenshot is: the gate refuses it as stale.

The file holds no private key: each entry is a pass's signed bytes and, for a rotating
pass, its step secret (base64), as a phone holds them::

    [{"label": "resident 1", "signed": "...", "secret": "...", "shown_late_s": 0}, ...]
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devices.emulated import EmulatedDriver
from devices.qr.config import SerialQrEmulatedConfig
from devices.qr.emulators import PtyQrScanner
from devices.qr.serial_scanner import SerialQrScanner
from gate.domain.errors import ConfigError
from gate.domain.passes import pass_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class ShownPass:
    """One pass the emulated scanner shows in turn."""

    label: str
    signed: bytes
    secret: bytes | None
    shown_late_s: float = 0.0


def load_passes(path: Path) -> list[ShownPass]:
    """The passes of a demo file; ``ConfigError`` naming the file if it is unusable."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        shown = [
            ShownPass(
                label=str(entry.get("label", "")),
                signed=base64.b64decode(entry["signed"], validate=True),
                secret=base64.b64decode(entry["secret"], validate=True)
                if entry.get("secret")
                else None,
                shown_late_s=float(entry.get("shown_late_s", 0)),
            )
            for entry in entries
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise ConfigError(f"demo passes {path} unusable: {exc}", key="passes") from None
    if not shown:
        raise ConfigError(f"demo passes {path} holds no pass", key="passes")
    return shown


class PresentingScanner(PtyQrScanner):
    """A pty scanner that scans the next pass every ``interval`` seconds once started."""

    def __init__(self, passes: list[ShownPass], *, interval: float) -> None:
        super().__init__()
        self._passes = passes
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PresentingScanner:
        """Start showing passes."""
        self._thread = threading.Thread(target=self._show, name="qr-emulator", daemon=True)
        self._thread.start()
        return self

    def _show(self) -> None:
        index = 0
        while not self._stop.wait(self._interval):
            shown = self._passes[index % len(self._passes)]
            index += 1
            moment = datetime.now(UTC) - timedelta(seconds=shown.shown_late_s)
            try:
                self.scan(pass_text(shown.signed, shown.secret, moment))
            except OSError as exc:
                logger.debug("emulated scanner: %s", exc)

    def close(self) -> None:
        """Stop showing, then release the pty."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        super().close()


class EmulatedSerialQrScanner(EmulatedDriver[PresentingScanner, SerialQrScanner]):
    """``QrScanner`` port: emulator plus the real serial driver; ``close`` stops both."""

    def __init__(self, passes: list[ShownPass], *, name: str = "qr", interval: float) -> None:
        super().__init__(
            PresentingScanner(passes, interval=interval),
            lambda emulator: SerialQrScanner(emulator.port, name=name),
        )

    @classmethod
    def from_config(
        cls, config: SerialQrEmulatedConfig, *, name: str, data_dir: Path
    ) -> EmulatedSerialQrScanner:
        """Build from a ``serial-qr-emulated`` config."""
        passes = load_passes(config.passes or data_dir / "demo" / "passes.json")
        return cls(passes, name=name, interval=config.interval)

    def read_code(self, timeout: float) -> str | None:
        """The next code the emulated scanner sends."""
        return self.driver.read_code(timeout)
