"""Where this gate's backed-up files live, from the settings (``registry.backup`` does the rest).

data.key                the personal-data key (``gate.runtime.keyfile``)      sealed
log-keys/chain.key      the passage log's HMAC key (``gate.runtime.log_keys``) sealed
log-keys/anchor.key     the anchor-signing key                                sealed
pass-keys/*.key         the pass-signing key ring                             sealed
log-anchors.jsonl       the anchor file (signed, nothing secret)              plain
"""

from __future__ import annotations

from pathlib import Path

from gate.runtime.keyfile import key_path
from gate.runtime.log_keys import anchor_file_path, anchor_key_path, chain_key_path
from gate.runtime.settings import Settings
from recognition.passes import key_dir
from registry.backup import BackupLayout

DATA_KEY = "data.key"


def backup_layout(settings: Settings, *, data_key: Path | None = None) -> BackupLayout:
    """The files of this gate a backup carries; ``data_key`` where the loaded key came from."""
    return BackupLayout(
        secret_files={
            DATA_KEY: data_key or key_path(settings)[0],
            "log-keys/chain.key": chain_key_path(settings),
            "log-keys/anchor.key": anchor_key_path(settings),
        },
        secret_dirs={"pass-keys": key_dir(settings.data_dir)},
        plain_files={"log-anchors.jsonl": anchor_file_path(settings)},
        required=frozenset({DATA_KEY}),
    )
