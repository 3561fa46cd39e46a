"""Words for the codes openworks returns, in one place for the API, the CLI and the console.

Two vocabularies describe a package's Status: the console's words ("Successful") and the
CLI's upper-case names, which are those of :class:`~openworks.core.model.PackageStatus`
("SUCCESS"). A package held for approval is shown as :data:`WAITING_FOR_APPROVAL` by both.
A pipeline run's and a stage's Status (2024-05-18: ``Init``, ``Running``, ``Success``,
``Fail``, ``Termination``, ``Cancel``) read as :data:`RUN_STATUS`; a stage is drawn as one
of :data:`STAGE_LOOKS` (its state, a mark for the terminal's step line, words), with a
deploy stage whose package waits for approval shown as *waiting*.
The ``*_tone`` functions name the tone of a code (``ok``, ``bad``, ``warn``, ``pending``,
``neutral``), which the console uses as the CSS class of a badge that also carries the words.
"""

from __future__ import annotations

from openworks.core.filetypes import FILE_TYPES
from openworks.core.model import CheckingStatus, Env, ItemStatus, PackageStatus, ProjectMode

__all__ = [
    "CHECKING",
    "CHECK_RESULT",
    "ENVIRONMENTS",
    "ITEM_STATUS",
    "PACKAGE_PROGRESS",
    "PACKAGE_STATUS",
    "PACKAGE_STATUS_NAME",
    "PROGRAM_TYPE",
    "RUN_STATUS",
    "STAGE_LOOKS",
    "WAITING_FOR_APPROVAL",
    "WORKSPACE_MODE",
    "check_result_tone",
    "checking_tone",
    "file_type_name",
    "item_tone",
    "package_tone",
    "run_tone",
    "stage_look",
]

# Keys are plain ints (not the IntEnum members) so that templates and f-strings print numbers.
PACKAGE_STATUS: dict[int, str] = {
    int(PackageStatus.READY): "Ready",
    int(PackageStatus.SUCCESS): "Successful",
    int(PackageStatus.FAILED): "Failed",
    int(PackageStatus.REJECTED): "Rejected",
}
PACKAGE_STATUS_NAME: dict[int, str] = {int(s): s.name for s in PackageStatus}
# How `openworks sync` reports a package's progress, one word per status.
PACKAGE_PROGRESS: dict[int, str] = {
    int(PackageStatus.READY): "running",
    int(PackageStatus.SUCCESS): "succeeded",
    int(PackageStatus.FAILED): "failed",
    int(PackageStatus.REJECTED): "rejected",
}
WAITING_FOR_APPROVAL = "WAITING FOR APPROVAL"
# CheckingStatus of a package (null: no check pending).
CHECKING: dict[int, str] = {
    int(CheckingStatus.FAILED): "Check failed",
    int(CheckingStatus.CHECKING): "Checking",
}
ENVIRONMENTS: dict[int, str] = {
    int(Env.LOCAL): "Local",
    int(Env.DEV): "Development",
    int(Env.PROD): "Production",
}
ITEM_STATUS: dict[int, str] = {
    int(ItemStatus.UNPUBLISHED): "Unpublished",
    int(ItemStatus.SUCCESS): "Successful",
    int(ItemStatus.ERROR): "Error",
    int(ItemStatus.CLONED): "Cloned",
    int(ItemStatus.DEPLOY_ERROR): "Deploy error",
    int(ItemStatus.CLONING): "Cloning",
    int(ItemStatus.REJECT): "Rejected",
}
# The answer of one check run (built-in or extension).
CHECK_RESULT: dict[str, str] = {
    "OK": "Passed",
    "WARN": "Warning",
    "FAIL": "Failed",
    "CHECKING": "Checking",
}
WORKSPACE_MODE: dict[int, str] = {
    int(ProjectMode.BASIC): "basic",
    int(ProjectMode.STANDARD): "standard",
}
# ProgramType of a node (GetNode, ListNodes) by FileType.
PROGRAM_TYPE: dict[int, str] = {code: t.type_name for code, t in FILE_TYPES.items()}

_PACKAGE_TONES = {
    int(PackageStatus.READY): "pending",
    int(PackageStatus.SUCCESS): "ok",
    int(PackageStatus.FAILED): "bad",
    int(PackageStatus.REJECTED): "bad",
}
_NEUTRAL_ITEMS = frozenset({ItemStatus.UNPUBLISHED, ItemStatus.CLONED, ItemStatus.CLONING})
_RESULT_TONES = {"OK": "ok", "WARN": "warn", "FAIL": "bad"}


def package_tone(status: int) -> str:
    return _PACKAGE_TONES.get(status, "neutral")


def item_tone(status: int) -> str:
    if status == ItemStatus.SUCCESS:
        return "ok"
    return "neutral" if status in _NEUTRAL_ITEMS else "bad"


def checking_tone(code: int) -> str:
    return "pending" if code == CheckingStatus.CHECKING else "bad"


def check_result_tone(status: str) -> str:
    return _RESULT_TONES.get(status, "pending")


def file_type_name(code: int) -> str:
    known = FILE_TYPES.get(code)
    return known.name_en if known is not None else f"Type {code}"


# Status of a pipeline run or of one of its stages (API 2024-05-18).
RUN_STATUS: dict[str, str] = {
    "Init": "Not started",
    "Running": "Running",
    "Success": "Succeeded",
    "Fail": "Failed",
    "Termination": "Terminated",
    "Cancel": "Cancelled",
}
_RUN_TONES = {"Success": "ok", "Fail": "bad", "Termination": "bad", "Running": "pending"}


def run_tone(status: str) -> str:
    return _RUN_TONES.get(status, "neutral")


# How a stage is drawn: state (the console's CSS class), mark (the CLI's step line), words.
STAGE_LOOKS: dict[str, tuple[str, str]] = {
    "done": ("\u2713", "Done"),
    "running": ("\u2026", "Running"),
    "waiting": ("\u2016", "Waiting for approval"),
    "failed": ("\u2717", "Failed"),
    "terminated": ("\u2717", "Rejected"),
    "cancelled": ("\u2298", "Cancelled"),
    "pending": ("\u00b7", "Not started"),
}
_STAGE_STATES = {
    "Success": "done",
    "Running": "running",
    "Fail": "failed",
    "Termination": "terminated",
    "Cancel": "cancelled",
}


def stage_look(status: str, held: bool = False) -> tuple[str, str, str]:
    """``(state, mark, words)`` of a stage: ``held`` when its package waits for approval."""
    state = "waiting" if held and status == "Running" else _STAGE_STATES.get(status, "pending")
    mark, words = STAGE_LOOKS[state]
    return state, mark, words
