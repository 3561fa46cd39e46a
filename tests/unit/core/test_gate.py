"""The check gate and approvals driven directly: holds, settling, idempotent decisions."""

from __future__ import annotations

import pytest

from openworks.core import checks, packages
from openworks.core.approvals import approve_package, reject_package
from openworks.core.context import Core
from openworks.core.errors import Invalid
from openworks.core.extensions import add_extension
from openworks.core.workspace_settings import set_settings

from .conftest import ROOT
from .test_lifecycle_rules import new_file, run_all, workspace


def test_builtin_fail_commits_but_refuses_deploy(core: Core) -> None:
    ref = workspace(core)
    set_settings(core, ROOT, ref, {"checks.builtin": "forbid-pattern(MAX_PT)"})
    fid = new_file(core, ref, Content="select MAX_PT('t')")
    pid = packages.submit_file(core, ROOT, ref, fid, None)
    held = packages.get_deployment(core, ROOT, ref, pid)
    assert (held.status, held.checking_status, held.hold) == (0, 8, "checks")
    assert run_all(core) == []  # the worker does not claim a held package
    with pytest.raises(Invalid) as pending:
        packages.deploy_file(core, ROOT, ref, fid, None, None)
    assert pending.value.code == "Invalid.Deploy.CheckPending"
    assert checks.run_builtin_checks(core) == 1
    assert run_all(core) == [pid]
    done = packages.get_deployment(core, ROOT, ref, pid)
    assert (done.status, done.checking_status, done.hold) == (1, 7, None)
    with pytest.raises(Invalid) as failed:
        packages.deploy_file(core, ROOT, ref, fid, None, None)
    assert (
        failed.value.code == "Invalid.Deploy.CheckFailed"
        and "forbid-pattern" in failed.value.message
    )


def test_settle_waits_for_answers_then_times_out_once(core: Core) -> None:
    ref = workspace(core)
    add_extension(
        core, ROOT, "ext1", "x", ["commit-file"], "http://127.0.0.1:9/x", "secret-123", [ref]
    )
    fid = new_file(core, ref)
    pid = packages.submit_file(core, ROOT, ref, fid, None)
    with core.store.transaction(write=True) as tx:
        [event] = tx.checks().events_for_package(pid)
        assert not checks.settle(tx, pid, event.create_time + 1000)  # still waiting
        assert checks.settle(tx, pid, event.deadline)  # deadline: FAIL by timeout
        assert not checks.settle(tx, pid, event.deadline + 1)  # already settled
        [run] = tx.checks().runs_for_package(pid)
        assert run.status == "FAIL" and "no answer within" in run.message
    assert checks.settle_due(core) == []
    assert run_all(core) == [pid]
    assert packages.get_deployment(core, ROOT, ref, pid).checking_status == 7


def test_approval_decisions_happen_once(core: Core) -> None:
    ref = workspace(core)
    set_settings(core, ROOT, ref, {"approval.required": "true"})
    fid = new_file(core, ref)
    packages.submit_file(core, ROOT, ref, fid, None)
    run_all(core)
    first = packages.deploy_file(core, ROOT, ref, fid, None, None)
    assert run_all(core) == []
    rejected = reject_package(core, ROOT, first, "no")
    assert rejected.status == 6 and [i.status for i in rejected.items] == [6]
    for decide in (
        lambda: approve_package(core, ROOT, first),
        lambda: reject_package(core, ROOT, first, "again"),
    ):
        with pytest.raises(Invalid) as err:
            decide()
        assert err.value.code == "Invalid.Deploy.NotAwaitingApproval"
    second = packages.deploy_file(core, ROOT, ref, fid, None, None)
    assert approve_package(core, ROOT, second).status == 1
    with pytest.raises(Invalid):
        approve_package(core, ROOT, second)
    assert run_all(core) == []
    with pytest.raises(Invalid):
        reject_package(core, ROOT, second, "  ")


def test_work_due_says_when_the_check_loop_has_something_to_do(core: Core) -> None:
    """The check loop's first, cheap question (checks.work_due): false with no checks in
    use, true while a built-in run or a gate is open, false again once settled."""
    ref = workspace(core)
    plain = new_file(core, ref)
    packages.submit_file(core, ROOT, ref, plain, None)
    assert not checks.work_due(core)  # a package without checks wakes nobody
    set_settings(core, ROOT, ref, {"checks.builtin": "forbid-pattern(MAX_PT)"})
    fid = new_file(core, ref, "b", Content="select 1")
    packages.submit_file(core, ROOT, ref, fid, None)
    assert checks.work_due(core)  # a pending built-in run
    assert checks.run_builtin_checks(core) == 1
    run_all(core)
    assert not checks.work_due(core)
    add_extension(
        core, ROOT, "ext2", "x", ["commit-file"], "http://127.0.0.1:9/x", "secret-123", [ref]
    )
    other = new_file(core, ref, "c", Content="select 2")
    packages.submit_file(core, ROOT, ref, other, None)
    assert checks.work_due(core)  # an open gate and a delivery due
