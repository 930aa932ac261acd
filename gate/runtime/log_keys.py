"""The passage log's keys: the chain key (HMAC) and the anchor key (Ed25519), outside the database.

    <data folder>/log-keys/          mode 0700
        chain.key                    mode 0600: base64 of 32 random bytes, keys every row
        anchor.key                   mode 0600: base64 of the 32-byte Ed25519 seed
    <data folder>/log-anchors.jsonl  the anchors (``registry.log_anchors``)

The chain key is generated, not derived from the data key: it can be kept, backed up and
handed to an auditor on its own. It is generated only while the database records no chain
key (a fresh log, or one just upgraded by migration 0013); from then on the database holds
the key's id (``chain_key_id``, not the key) and a missing or other key file is refused
with what to restore, since a new key would make every keyed row fail to verify.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from gate.domain.errors import ConfigError
from gate.domain.hashchain import chain_key_id
from gate.runtime.keyfile import generate_key_file, read_key_file
from gate.runtime.settings import Settings
from registry.chain_check import chain_state, claim_chain_key
from registry.database import Database
from registry.log_anchors import Anchorer, AnchorKey, AnchorLog

logger = logging.getLogger(__name__)

CHAIN_SETTING = "log.chain_key_file"
ANCHOR_SETTING = "log.anchor_key_file"


@dataclass(frozen=True)
class ChainKey:
    """The chain key, its id and its file (the path and id are safe to show, the bytes not)."""

    material: bytes
    key_id: str
    path: Path

    def __repr__(self) -> str:
        return f"ChainKey(path={self.path!s}, key_id={self.key_id})"


def chain_key_path(settings: Settings) -> Path:
    """Where the chain key is read from."""
    return settings.log.chain_key_file or settings.data_dir / "log-keys" / "chain.key"


def anchor_key_path(settings: Settings) -> Path:
    """Where the anchor-signing key is read from."""
    return settings.log.anchor_key_file or settings.data_dir / "log-keys" / "anchor.key"


def anchor_file_path(settings: Settings) -> Path:
    """The anchor file."""
    return settings.log.anchor_file or settings.data_dir / "log-anchors.jsonl"


def load_chain_key(settings: Settings, database: Database) -> ChainKey:
    """The chain key the database's log is under; ``ConfigError`` if missing or another."""
    path = chain_key_path(settings)
    recorded = chain_state(database).key_id
    if not path.exists():
        if recorded is not None:
            raise ConfigError(
                f"the passage log is keyed under chain key {recorded} but {path} does not "
                "exist: restore that key file from the backup (a new key would not verify "
                "the log)",
                key=CHAIN_SETTING,
            )
        if settings.log.chain_key_file is not None:
            raise ConfigError(f"chain key file {path} does not exist", key=CHAIN_SETTING)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if generate_key_file(path, setting=CHAIN_SETTING):
            logger.warning("generated the passage log's chain key at %s (mode 0600)", path)
    material = read_key_file(path, setting=CHAIN_SETTING)
    key_id = chain_key_id(material)
    under = claim_chain_key(database, key_id)
    if under != key_id:
        raise ConfigError(
            f"{path} holds chain key {key_id} but the passage log is keyed under {under}: "
            "restore the right key file (refusing to write or verify with another)",
            key=CHAIN_SETTING,
        )
    return ChainKey(material, key_id, path)


def load_anchor_key(settings: Settings) -> AnchorKey:
    """The anchor-signing key, generated on first use."""
    path = anchor_key_path(settings)
    if not path.exists() and settings.log.anchor_key_file is None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if generate_key_file(path, setting=ANCHOR_SETTING):
            logger.warning("generated the passage log's anchor key at %s (mode 0600)", path)
    if not path.exists():
        raise ConfigError(f"anchor key file {path} does not exist", key=ANCHOR_SETTING)
    return AnchorKey(read_key_file(path, setting=ANCHOR_SETTING))


def build_anchorer(settings: Settings, database: Database, chain_key: ChainKey) -> Anchorer:
    """The anchor file and the writer of its anchors, from the settings."""
    key = load_anchor_key(settings)
    compound = settings.compound.code
    return Anchorer(
        database,
        AnchorLog(anchor_file_path(settings), key, compound=compound),
        compound=compound,
        chain_key_id=chain_key.key_id,
        public_key=key.public_hex,
        every=settings.log.anchor_every,
        interval=timedelta(minutes=settings.log.anchor_minutes),
    )
