"""How stage and run statuses follow from a run's packages (core/run_stages.py)."""

from __future__ import annotations

import pytest

from openworks.core import files, packages, pipeline_runs, run_trigger
from openworks.core import run_stages as rs
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.model import CheckingStatus, Package, PackageStatus, RunStage
from openworks.core.projects import NewProject, create_project

from .conftest import ROOT


def package(
    status: int = PackageStatus.READY,
    hold: str | None = None,
    checking: int | None = None,
    error: str | None = None,
    to_env: int = 1,
) -> Package:
    return Package(
        id=1, project_id=1, name="p", from_env=0, to_env=to_env, creator_id="u",
        handler_id="u", create_time=1, status=status, checking_status=checking,
        error_message=error, hold=hold,
    )  # fmt: skip


def standard(*triggered: str) -> list[RunStage]:
    stages = [RunStage(code, code in triggered) for code in rs.stage_codes(False, True)]
    stages[0].status = rs.SUCCESS
    return stages


def by_code(derived: rs.Derived) -> dict[str, str]:
    return {v.code: v.status for v in derived.stages}


def test_stage_sets() -> None:
    assert rs.stage_codes(False, True) == (
        "BUILD_PACKAGE",
        "DEV_CHECK",
        "DEV",
        "PROD_CHECK",
        "PROD",
    )
    assert rs.stage_codes(False, False) == ("BUILD_PACKAGE", "PROD_CHECK", "PROD")
    assert rs.stage_codes(True, True) == ("OfflineCheck", "PROD_CHECK", "PROD", "DeleteNode")
    assert rs.info("PROD", offline=True).type == "Offline"
    assert rs.info("PROD", offline=False).type == "Deploy"
    assert rs.info("DeleteNode", offline=True).type == "Delete"


def test_a_new_run_is_running_and_waits_for_the_second_stage() -> None:
    derived = rs.derive(standard("BUILD_PACKAGE"), None, None, cancelled=False)
    assert derived.status == rs.RUNNING and derived.message == ""
    assert [v.step for v in derived.stages] == [1, 2, 3, 4, 5]
    ready = rs.next_ready(derived)
    assert ready is not None and ready.code == "DEV_CHECK"


@pytest.mark.parametrize(
    ("dev", "check", "deploy"),
    [
        (package(hold="checks", checking=CheckingStatus.CHECKING), rs.RUNNING, rs.INIT),
        (package(hold="stage"), rs.SUCCESS, rs.INIT),
        (
            package(PackageStatus.FAILED, checking=CheckingStatus.FAILED, error="bad"),
            rs.FAIL,
            rs.INIT,
        ),
        (package(PackageStatus.FAILED, checking=CheckingStatus.CHECKING), rs.CANCEL, rs.INIT),
    ],
)
def test_the_check_stage_follows_the_package_checks(dev: Package, check: str, deploy: str) -> None:
    derived = rs.derive(standard("BUILD_PACKAGE", "DEV_CHECK"), dev, None, cancelled=False)
    assert (by_code(derived)["DEV_CHECK"], by_code(derived)["DEV"]) == (check, deploy)


@pytest.mark.parametrize(
    ("dev", "deploy", "run"),
    [
        (package(), rs.RUNNING, rs.RUNNING),
        (package(PackageStatus.SUCCESS), rs.SUCCESS, rs.RUNNING),
        (package(PackageStatus.FAILED, error="stale"), rs.FAIL, rs.FAIL),
        (package(PackageStatus.REJECTED, error="no"), rs.TERMINATION, rs.TERMINATION),
    ],
)
def test_the_deploy_stage_follows_the_package(dev: Package, deploy: str, run: str) -> None:
    derived = rs.derive(standard("BUILD_PACKAGE", "DEV_CHECK", "DEV"), dev, None, False)
    assert by_code(derived)["DEV"] == deploy and derived.status == run
    if run in (rs.FAIL, rs.TERMINATION):
        assert derived.message == dev.error_message


def test_the_run_succeeds_when_every_stage_did() -> None:
    stages = standard(*rs.stage_codes(False, True))
    done = package(PackageStatus.SUCCESS)
    derived = rs.derive(stages, done, package(PackageStatus.SUCCESS, to_env=2), False)
    assert derived.status == rs.SUCCESS and rs.next_ready(derived) is None


def test_own_statuses_win_and_a_failed_build_fails_the_run() -> None:
    stages = standard()
    stages[0].status, stages[0].message = rs.FAIL, "Nothing to deploy"
    derived = rs.derive(stages, None, None, False)
    assert derived.status == rs.FAIL and derived.message == "Nothing to deploy"
    assert rs.next_ready(derived) is None


def test_abolished_runs_cancel_their_waiting_stages() -> None:
    stages = standard("BUILD_PACKAGE", "DEV_CHECK")
    derived = rs.derive(stages, package(PackageStatus.FAILED), None, cancelled=True)
    assert derived.status == rs.CANCEL
    assert by_code(derived) == {
        "BUILD_PACKAGE": rs.SUCCESS, "DEV_CHECK": rs.SUCCESS, "DEV": rs.CANCEL,
        "PROD_CHECK": rs.CANCEL, "PROD": rs.CANCEL,
    }  # fmt: skip


def test_a_triggered_stage_without_its_package_yet_is_running() -> None:
    derived = rs.derive(standard("BUILD_PACKAGE", "DEV_CHECK"), None, None, False)
    assert by_code(derived)["DEV_CHECK"] == rs.RUNNING and rs.next_ready(derived) is None


def test_auto_range() -> None:
    codes = rs.stage_codes(False, True)
    assert rs.auto_range(codes, None) == frozenset(codes)
    assert rs.auto_range(codes, "DEV") == {"BUILD_PACKAGE", "DEV_CHECK", "DEV"}


# -- the observer that advances Auto runs is carried by the Core -------------------------------


def _auto_run(core: Core, identifier: str) -> tuple[ProjectRef, str]:
    ref = ProjectRef(create_project(core, ROOT, NewProject(identifier, "auto", mode=3)))
    file_id = files.create_file(core, ROOT, ref, 10, {"FileName": "auto", "Content": "SELECT 1"})
    run_id = pipeline_runs.create_run(core, ROOT, ref, "Online", [str(file_id)], None, "Auto", None)
    return ref, run_id


def _drain(core: Core) -> None:
    while packages.run_next_package(core) is not None:
        pass


def test_a_core_with_the_runs_observer_advances_auto_runs(core: Core) -> None:
    assert run_trigger.install(core) is core and run_trigger.install(core).observers == (
        core.observers[0],
    )  # once per Core
    assert core.gates == () and isinstance(core.observers[0], run_trigger.RunsGate)
    ref, run_id = _auto_run(core, "ws_auto")
    _drain(core)
    view = pipeline_runs.get_run(core, ROOT, ref, run_id)
    assert view.derived.status == rs.SUCCESS and view.run.status == rs.SUCCESS


def test_a_bare_core_does_not_advance_after_a_package_settles(core: Core) -> None:
    core = Core(core.store, clock=core.clock)  # bare: no checks, no observers
    assert core.observers == () and core.lifecycle_gates == ()
    ref, run_id = _auto_run(core, "ws_bare")
    _drain(core)  # DEV ran; nobody heard it, so PROD_CHECK was never triggered
    view = pipeline_runs.get_run(core, ROOT, ref, run_id)
    assert by_code(view.derived)["DEV"] == rs.SUCCESS
    assert by_code(view.derived)["PROD_CHECK"] == rs.INIT and view.run.status == rs.RUNNING


# -- GetPipelineRun's one-statement read (RunStore.run_read) --------------------------------


def _state(package: rs.PackageState | None) -> tuple[object, ...] | None:
    if package is None:
        return None
    return (package.status, package.checking_status, package.hold, package.error_message)


def _read_matches_packages(core: Core, run_id: str) -> rs.RunRead:
    """``run_read`` gives the run ``run`` gives and the columns of the packages it links."""
    with core.store.transaction() as tx:
        found = tx.pipeline().run_read(run_id)
        run = tx.pipeline().run(run_id)
        assert found is not None and run is not None and found.run == run
        dev, prod = run_trigger.run_packages(tx, run)
        assert (_state(found.dev), _state(found.prod)) == (_state(dev), _state(prod))
        derived = rs.derive(run.stages, found.dev, found.prod, run.cancelled)
        assert derived == run_trigger.derive_run(tx, run)
        return found


def test_run_read_follows_the_run_through_its_packages(core: Core) -> None:
    run_trigger.install(core)  # the Auto run goes on to PROD once DEV settles
    ref, run_id = _auto_run(core, "ws_read")
    first = _read_matches_packages(core, run_id)  # DEV package made, not executed yet
    assert first.dev is not None and first.prod is None
    _drain(core)
    last = _read_matches_packages(core, run_id)  # both packages settled
    assert last.dev is not None and last.prod is not None
    assert pipeline_runs.get_run(core, ROOT, ref, run_id).derived.status == rs.SUCCESS
    with core.store.transaction() as tx:
        assert tx.pipeline().run_read("00000000-0000-4000-8000-000000000000") is None
