"""One overlay per API version: the operations served and our facts about them.

A version is its generated contract (``api/contracts/<version>.json``) plus the overlay
module here (``v<version>.py``); :data:`OVERLAYS` lists the versions the server knows.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..overlay import Overlay
from . import v2020_05_18, v2024_05_18

__all__ = ["OVERLAYS"]

OVERLAYS: Mapping[str, Overlay] = {
    overlay.version: overlay for overlay in (v2020_05_18.OVERLAY, v2024_05_18.OVERLAY)
}
