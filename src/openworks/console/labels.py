"""Words for the codes GetDeployment and ListFileVersions return, and small formatters.

Every code is shown as words *and* as its number ("Check failed (7)"), so that what a user
reads in the console matches what the SDK returns. ``badge`` names the CSS class of a status
badge; the badge always carries the words too, never colour alone.
"""

from __future__ import annotations

import time

from openworks.core.filetypes import FILE_TYPES
from openworks.core.model import Package, PackageStatus

__all__ = [
    "CHECKING",
    "ENVIRONMENTS",
    "ITEM_STATUS",
    "PACKAGE_STATUS",
    "badge",
    "file_type_name",
    "is_final",
    "when",
]

PACKAGE_STATUS: dict[int, str] = {0: "Ready", 1: "Successful", 2: "Failed", 6: "Rejected"}
CHECKING: dict[int, str] = {7: "Check failed", 8: "Checking"}
ENVIRONMENTS: dict[int, str] = {0: "Local", 1: "Development", 2: "Production"}
ITEM_STATUS: dict[int, str] = {
    0: "Unpublished",
    1: "Successful",
    2: "Error",
    3: "Cloned",
    4: "Deploy error",
    5: "Cloning",
    6: "Rejected",
}
_BADGES = {0: "pending", 1: "ok", 2: "bad", 6: "bad"}


def is_final(package: Package) -> bool:
    """A package shows no further change once it ran (or was rejected) and no check runs."""
    return package.status != PackageStatus.READY and package.checking_status != 8


def badge(status: int) -> str:
    return _BADGES.get(status, "neutral")


def file_type_name(code: int) -> str:
    known = FILE_TYPES.get(code)
    return known.name_en if known is not None else f"Type {code}"


def when(ms: int | None) -> str:
    """Milliseconds since the epoch as ``YYYY-MM-DD HH:MM:SS UTC``; a dash for none."""
    if not ms:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ms / 1000))
