"""``EmulatedGa467Reader``: the real serial driver talking to the SAM emulator.

Chosen by config like any driver (``type = "ga467-emulated"``): it starts a
``Ga467Emulator`` on a pseudo-terminal presenting the cards of ``cards`` (default
``<data_dir>/demo/cards.json``, written by ``gate demo seed``), one every
``card_interval`` seconds, and reads them with ``Ga467SerialReader`` like a real module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from devices.idcard.config import Ga467EmulatedConfig
from devices.idcard.emulator import Ga467Emulator, load_cards
from devices.idcard.reader import MIN_POLL_INTERVAL, Ga467SerialReader
from gate.domain.cards import IdCard
from gate.domain.device_ports import DeviceHealth


class EmulatedGa467Reader:
    """``IdCardReader`` port: emulator plus real driver; ``close`` stops both."""

    def __init__(
        self,
        cards: Sequence[IdCard],
        *,
        name: str = "id-reader",
        card_interval: float = 5.0,
        poll_interval: float = MIN_POLL_INTERVAL,
        timeout: float = 1.0,
    ) -> None:
        self.name = name
        # Half of each interval on the reader, half away: the driver sees "no card" between.
        self.emulator = Ga467Emulator(
            cards, present_for=card_interval / 2, away_for=card_interval / 2
        )
        path = self.emulator.start()
        try:
            self.reader = Ga467SerialReader(
                path, name=name, poll_interval=poll_interval, timeout=timeout
            )
        except BaseException:
            self.emulator.stop()
            raise

    @classmethod
    def from_config(
        cls, config: Ga467EmulatedConfig, *, name: str, data_dir: Path
    ) -> EmulatedGa467Reader:
        """Build from a ``ga467-emulated`` config; ``ConfigError`` if the cards are unusable."""
        cards = load_cards(config.cards or data_dir / "demo" / "cards.json")
        return cls(
            cards,
            name=name,
            card_interval=config.card_interval,
            poll_interval=config.poll_interval,
        )

    def __repr__(self) -> str:
        return f"EmulatedGa467Reader({self.name!r})"

    def read_card(self, timeout: float) -> IdCard | None:
        """The next card the emulator presents (each once while it stays)."""
        return self.reader.read_card(timeout)

    def health(self) -> DeviceHealth:
        """The driver's view of the emulated reader."""
        return self.reader.health()

    def close(self) -> None:
        """Close the driver, then stop the emulator."""
        try:
            self.reader.close()
        finally:
            self.emulator.stop()
