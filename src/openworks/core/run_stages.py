"""Stages of a pipeline run and how their statuses follow from the run's packages (pure).

Stage sets (Step is the 1-based position)::

    Online, standard   BUILD_PACKAGE ─▶ DEV_CHECK ─▶ DEV ─▶ PROD_CHECK ─▶ PROD
                       Build            Check        Deploy  Check         Deploy
    Online, basic      BUILD_PACKAGE ─▶ PROD_CHECK ─▶ PROD
    Offline            OfflineCheck ─▶ PROD_CHECK ─▶ PROD ─▶ DeleteNode
                       Check           Check         Offline  Delete

A stage is decided by its *own* status (the stages no package decides: BUILD_PACKAGE,
OfflineCheck, DeleteNode, or a stage that had nothing to do), else by a package: DEV_CHECK
and DEV by the run's development package, PROD_CHECK and PROD by its production package::

    check stage   not triggered ─▶ Init   package held "checks" (CS 8) ─▶ Running
                  CheckingStatus 7 ─▶ Fail   failed while checking ─▶ Cancel   else Success
    deploy stage  not triggered ─▶ Init   READY ─▶ Running   SUCCESS ─▶ Success
                  FAILED ─▶ Fail (its ErrorMessage)   REJECTED ─▶ Termination

The run: Cancel once abolished (its Running and Init stages too); else Termination if a
stage is, Fail (with that stage's Message) if a stage failed, Success when every stage
succeeded, else Running.

A stage reads four columns of a package (:class:`PackageState`: status, checking status,
hold, error message), so a reader that only derives (GetPipelineRun) takes the run and
those columns of both its packages in one statement (``RunStore.run_read`` ─▶ RunRead),
and a run in hand re-derives from one more (``RunStore.package_states``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from .model import CheckingStatus, PackageStatus, Page, PipelineRun, RunStage

__all__ = [
    "BUILD",
    "CANCEL",
    "DELETE_NODE",
    "DEV",
    "DEV_CHECK",
    "FAIL",
    "FINAL",
    "INIT",
    "OFFLINE_CHECK",
    "PROD",
    "PROD_CHECK",
    "RUNNING",
    "SUCCESS",
    "TERMINATION",
    "Derived",
    "PackageState",
    "RunRead",
    "RunStore",
    "StageInfo",
    "StageView",
    "auto_range",
    "derive",
    "info",
    "next_ready",
    "stage_codes",
]

INIT, RUNNING, SUCCESS, FAIL, TERMINATION, CANCEL = (
    "Init",
    "Running",
    "Success",
    "Fail",
    "Termination",
    "Cancel",
)
FINAL = frozenset({SUCCESS, FAIL, TERMINATION, CANCEL})

BUILD, DEV_CHECK, DEV, PROD_CHECK, PROD = "BUILD_PACKAGE", "DEV_CHECK", "DEV", "PROD_CHECK", "PROD"
OFFLINE_CHECK, DELETE_NODE = "OfflineCheck", "DeleteNode"


@dataclass(frozen=True, slots=True)
class StageInfo:
    """How a stage is shown: its Type, Name and Description."""

    type: str
    name: str
    description: str


_INFO = {
    BUILD: StageInfo("Build", "Build package", "Checks the object and builds what to deploy."),
    DEV_CHECK: StageInfo(
        "Check", "Development checks", "Runs the workspace's checks before development."
    ),
    DEV: StageInfo("Deploy", "Deploy to development", "Commits the object to development."),
    PROD_CHECK: StageInfo(
        "Check", "Production checks", "Runs the workspace's checks before production."
    ),
    PROD: StageInfo("Deploy", "Deploy to production", "Deploys the object to production."),
    OFFLINE_CHECK: StageInfo("Check", "Offline check", "Checks that the object is in production."),
    DELETE_NODE: StageInfo("Delete", "Delete node", "Deletes the node from Data Studio."),
}
_OFFLINE = {
    DEV: StageInfo("Offline", "Undeploy from development", "Removes the node from development."),
    PROD: StageInfo("Offline", "Undeploy from production", "Removes the node from production."),
}
_DEV_STAGES = frozenset({DEV_CHECK, DEV})
_CHECK_STAGES = frozenset({DEV_CHECK, PROD_CHECK})


def info(code: str, offline: bool) -> StageInfo:
    """Type, Name and Description of a stage (the deploy stages of Offline runs differ)."""
    if offline and code in _OFFLINE:
        return _OFFLINE[code]
    return _INFO[code]


def stage_codes(offline: bool, standard: bool) -> tuple[str, ...]:
    """The stages of a run created through 2024, in order."""
    if offline:
        return (OFFLINE_CHECK, PROD_CHECK, PROD, DELETE_NODE)
    if standard:
        return (BUILD, DEV_CHECK, DEV, PROD_CHECK, PROD)
    return (BUILD, PROD_CHECK, PROD)


class PackageState(Protocol):
    """What a stage's status follows from: a :class:`~openworks.core.model.Package`, or
    just these columns of its row (``RunStore.run_read``)."""

    @property
    def status(self) -> int: ...
    @property
    def checking_status(self) -> int | None: ...
    @property
    def hold(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...


class RunRead(NamedTuple):
    """A run with the state of its development and production packages (None: no
    package, or its row is gone), read at once for :func:`derive`."""

    run: PipelineRun
    dev: PackageState | None
    prod: PackageState | None


@dataclass(frozen=True, slots=True)
class StageView:
    code: str
    step: int
    status: str
    message: str | None


@dataclass(frozen=True, slots=True)
class Derived:
    status: str
    message: str
    stages: tuple[StageView, ...]


def _check_status(package: PackageState) -> tuple[str, str | None]:
    if package.status == PackageStatus.READY and package.hold == "checks":
        return RUNNING, None
    if package.checking_status == CheckingStatus.FAILED:
        return FAIL, package.error_message or "Pre-deployment checks failed."
    if package.status != PackageStatus.READY and package.checking_status is not None:
        return CANCEL, package.error_message  # ended while its checks ran (abolished)
    return SUCCESS, None


def _deploy_status(package: PackageState) -> tuple[str, str | None]:
    if package.status == PackageStatus.READY:
        return RUNNING, None
    if package.status == PackageStatus.SUCCESS:
        return SUCCESS, None
    if package.status == PackageStatus.REJECTED:
        return TERMINATION, package.error_message
    return FAIL, package.error_message


def _stage(
    stage: RunStage, dev: PackageState | None, prod: PackageState | None
) -> tuple[str, str | None]:
    if stage.status is not None:
        return stage.status, stage.message
    if not stage.triggered:
        return INIT, None
    package = dev if stage.code in _DEV_STAGES else prod
    if package is None:
        return RUNNING, None  # triggered in this very transaction
    if stage.code in _CHECK_STAGES:
        return _check_status(package)
    return _deploy_status(package)


def derive(
    stages: Sequence[RunStage],
    dev: PackageState | None,
    prod: PackageState | None,
    cancelled: bool,
) -> Derived:
    """The statuses of every stage and of the run (see the module docstring)."""
    views = []
    for step, stage in enumerate(stages, start=1):
        status, message = _stage(stage, dev, prod)
        if cancelled and status in (INIT, RUNNING):
            status = CANCEL
        views.append(StageView(stage.code, step, status, message))
    statuses = [v.status for v in views]
    if cancelled:
        return Derived(CANCEL, "The pipeline run was abolished.", tuple(views))
    if TERMINATION in statuses:
        bad = views[statuses.index(TERMINATION)]
        return Derived(TERMINATION, bad.message or f"Stage {bad.code} was rejected.", tuple(views))
    if FAIL in statuses:
        bad = views[statuses.index(FAIL)]
        return Derived(FAIL, bad.message or f"Stage {bad.code} failed.", tuple(views))
    if statuses and all(s == SUCCESS for s in statuses):
        return Derived(SUCCESS, "", tuple(views))
    return Derived(RUNNING, "", tuple(views))


def next_ready(derived: Derived) -> StageView | None:
    """The first Init stage whose predecessors all succeeded, if the run is not final."""
    if derived.status in FINAL:
        return None
    for view in derived.stages:
        if view.status == INIT:
            return view
        if view.status != SUCCESS:
            return None
    return None


def auto_range(codes: Sequence[str], until: str | None) -> frozenset[str]:
    """The stages an Auto run triggers by itself: up to and including ``until`` (all)."""
    if until is None or until not in codes:
        return frozenset(codes)
    return frozenset(codes[: list(codes).index(until) + 1])


class RunStore(Protocol):
    """Storage of pipeline runs, bound to the surrounding transaction (``Tx.pipeline()``)."""

    def insert_run(self, run: PipelineRun) -> None: ...
    def run(self, run_id: str) -> PipelineRun | None: ...
    def run_read(self, run_id: str) -> RunRead | None:
        """The run and the state of its packages, in one statement (GetPipelineRun)."""
        ...

    def package_states(
        self, dev_id: int | None, prod_id: int | None
    ) -> tuple[PackageState | None, PackageState | None]:
        """The state of a run's development and production packages (None: no id, or its
        row is gone), in one statement."""
        ...

    def lock_run(self, run_id: str, read: PipelineRun | None = None) -> PipelineRun | None:
        """The run, its row locked until the transaction ends (PostgreSQL). ``read``: the
        run as read earlier in this write transaction, returned as is where that
        transaction already excludes every other writer (SQLite)."""
        ...

    def update_run(self, run: PipelineRun) -> None: ...
    def list_runs(
        self,
        project_id: int,
        creator: str | None,
        object_id: int | None,
        status: str | None,
        page: Page,
    ) -> tuple[list[PipelineRun], int]:
        """Newest first."""
        ...

    def active_runs(self, project_id: int, object_id: int) -> list[PipelineRun]:
        """The object's runs whose stored status is not final."""
        ...

    def project_active_runs(self, project_id: int) -> list[PipelineRun]:
        """The workspace's runs whose stored status is not final, oldest first."""
        ...
