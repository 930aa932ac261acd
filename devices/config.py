"""The base of every driver's config model: a ``type`` naming the driver, no unknown keys.

Each device package keeps its drivers' models in its own ``config`` module, which imports
only pydantic: reading the settings never imports a hardware library.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DriverConfig(BaseModel):
    """One driver's settings; a subclass narrows ``type`` to its name in ``devices.drivers``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
