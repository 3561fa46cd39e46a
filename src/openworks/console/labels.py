"""The console's helpers for templates: the words of :mod:`openworks.presenters.labels`,
badge tones, and a time formatter.

Every code is shown as words *and* as its number ("Check failed (7)"), so that what a user
reads in the console matches what the SDK returns. ``badge`` names the CSS class of a status
badge; the badge always carries the words too, never colour alone.
"""

from __future__ import annotations

import time

from openworks.core import run_stages
from openworks.core.model import CheckingStatus, Package, PackageStatus
from openworks.presenters.labels import (
    CHECK_RESULT,
    CHECKING,
    ENVIRONMENTS,
    ITEM_STATUS,
    PACKAGE_STATUS,
    RUN_STATUS,
    check_result_tone,
    checking_tone,
    file_type_name,
    item_tone,
    run_tone,
    stage_look,
)
from openworks.presenters.labels import package_tone as badge

__all__ = [
    "CHECKING",
    "CHECK_RESULT",
    "ENVIRONMENTS",
    "ITEM_STATUS",
    "PACKAGE_STATUS",
    "RUN_STATUS",
    "badge",
    "check_result_tone",
    "checking_tone",
    "file_type_name",
    "is_final",
    "item_tone",
    "run_tone",
    "stage_info",
    "stage_look",
    "when",
]


def is_final(package: Package) -> bool:
    """A package shows no further change once it ran (or was rejected) and no check runs."""
    return (
        package.status != PackageStatus.READY and package.checking_status != CheckingStatus.CHECKING
    )


def stage_info(code: str, run_type: str) -> run_stages.StageInfo:
    """A stage's Type, Name and Description (those of an Offline run differ)."""
    return run_stages.info(code, run_type == "Offline")


def when(ms: int | None) -> str:
    """Milliseconds since the epoch as ``YYYY-MM-DD HH:MM:SS UTC``; a dash for none."""
    if not ms:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ms / 1000))
