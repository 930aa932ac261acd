"""``EmulatedGa467Reader``: the real serial driver talking to the SAM emulator.

Chosen by config like any driver (``type = "ga467-emulated"``): it starts a
``Ga467Emulator`` on a pseudo-terminal presenting the cards of ``cards`` (default
``<data_dir>/demo/cards.json``, written by ``gate demo seed``), one every
``card_interval`` seconds, and reads them with ``Ga467SerialReader`` like a real module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from devices.emulated import EmulatedDriver
from devices.idcard.config import Ga467EmulatedConfig
from devices.idcard.emulator import Ga467Emulator, load_cards
from devices.idcard.reader import MIN_POLL_INTERVAL, Ga467SerialReader
from gate.domain.cards import IdCard


class EmulatedGa467Reader(EmulatedDriver[Ga467Emulator, Ga467SerialReader]):
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
        def reader(emulator: Ga467Emulator) -> Ga467SerialReader:
            return Ga467SerialReader(
                emulator.path, name=name, poll_interval=poll_interval, timeout=timeout
            )

        # Half of each interval on the reader, half away: the driver sees "no card" between.
        half = card_interval / 2
        super().__init__(Ga467Emulator(cards, present_for=half, away_for=half), reader)

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

    def read_card(self, timeout: float) -> IdCard | None:
        """The next card the emulator presents (each once while it stays)."""
        return self.driver.read_card(timeout)
