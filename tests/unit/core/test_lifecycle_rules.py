"""Lifecycle rules of core.packages, driven directly (the worker is called by hand)."""

from __future__ import annotations

import pytest

from openworks.core import files, packages
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.errors import Invalid, NotFound
from openworks.core.model import Principal
from openworks.core.ports import FileFilter, Page
from openworks.core.projects import NewProject, create_project

from .conftest import ROOT


def workspace(core: Core, mode: int = 3, ident: str = "ws_one") -> ProjectRef:
    return ProjectRef(create_project(core, ROOT, NewProject(ident, "WS", mode=mode)))


def run_all(core: Core) -> list[int]:
    ran = []
    while (pid := packages.run_next_package(core)) is not None:
        ran.append(pid)
    return ran


def new_file(core: Core, ref: ProjectRef, name: str = "a", **fields: object) -> int:
    return files.create_file(core, ROOT, ref, 10, {"FileName": name, **fields})


def test_submit_creates_version_and_package_ready_until_run(core: Core) -> None:
    ref = workspace(core)
    fid = new_file(core, ref, Content="select 1")
    pid = packages.submit_file(core, ROOT, ref, fid, "c1")
    pkg = packages.get_deployment(core, ROOT, ref, pid)
    assert pkg.status == 0 and pkg.execute_time is None
    assert (pkg.from_env, pkg.to_env) == (0, 1)
    assert run_all(core) == [pid]
    pkg = packages.get_deployment(core, ROOT, ref, pid)
    assert pkg.status == 1 and pkg.items[0].status == 1
    _, version = files.get_version(core, ROOT, ref, fid, 1)
    assert version.status == "COMMITTED" and version.comment == "c1"


def test_deploy_refused_while_commit_pending(core: Core) -> None:
    ref = workspace(core)
    fid = new_file(core, ref)
    pid = packages.submit_file(core, ROOT, ref, fid, None)
    with pytest.raises(Invalid) as err:
        packages.deploy_file(core, ROOT, ref, fid, None, None)
    assert err.value.code == "Invalid.Deploy.CommitNotFinished"
    assert str(pid) in err.value.message
    run_all(core)
    packages.deploy_file(core, ROOT, ref, fid, None, None)
    with pytest.raises(Invalid) as again:
        packages.deploy_file(core, ROOT, ref, fid, None, None)
    assert again.value.code == "Invalid.Deploy.InProgress"


def test_failed_deploy_can_be_retried(core: Core) -> None:
    ref = workspace(core, ident="ws_retry")
    up = new_file(core, ref, "up")
    down = new_file(core, ref, "down", InputList="ws_retry.up")
    packages.submit_file(core, ROOT, ref, up, None)
    packages.submit_file(core, ROOT, ref, down, None)
    run_all(core)
    failed = packages.deploy_file(core, ROOT, ref, down, None, None)
    run_all(core)
    pkg = packages.get_deployment(core, ROOT, ref, failed)
    assert pkg.status == 2 and pkg.items[0].status == 4
    assert "ws_retry.up" in (pkg.error_message or "")
    packages.deploy_file(core, ROOT, ref, up, None, None)
    retry = packages.deploy_file(core, ROOT, ref, down, None, None)
    run_all(core)
    assert packages.get_deployment(core, ROOT, ref, retry).status == 1


def test_root_output_always_satisfies_inputs(core: Core) -> None:
    ref = workspace(core, ident="ws_root")
    fid = new_file(core, ref, InputList="ws_root_root")
    pid = packages.submit_file(core, ROOT, ref, fid, None)
    run_all(core)
    assert packages.get_deployment(core, ROOT, ref, pid).status == 1


def test_file_names_unique_case_insensitively(core: Core) -> None:
    ref = workspace(core)
    new_file(core, ref, "Orders")
    with pytest.raises(Invalid) as err:
        new_file(core, ref, "orders")
    assert err.value.code == "Invalid.File.NameExists"


def test_schedule_fields_validated(core: Core) -> None:
    ref = workspace(core)
    for bad in (
        {"CronExpress": "* *"},
        {"AutoRerunTimes": 11},
        {"RerunMode": "SOMETIMES"},
        {"InputParameters": "{not json"},
    ):
        with pytest.raises(Invalid):
            new_file(core, ref, "x", **bad)


def test_other_account_cannot_see_workspace(core: Core) -> None:
    ref = workspace(core)
    stranger = Principal("2000000000000002", "2000000000000002")
    with pytest.raises(Invalid) as err:
        files.list_files(core, stranger, ref, FileFilter(), Page())
    assert err.value.code == "Invalid.Tenant.ProjectNotExists"


def test_unknown_deployment(core: Core) -> None:
    ref = workspace(core)
    with pytest.raises(NotFound):
        packages.get_deployment(core, ROOT, ref, 42)


def test_delete_while_commit_pending_refused(core: Core) -> None:
    ref = workspace(core)
    fid = new_file(core, ref)
    packages.submit_file(core, ROOT, ref, fid, None)
    with pytest.raises(Invalid) as err:
        packages.delete_file(core, ROOT, ref, fid)
    assert err.value.code == "Invalid.File.Busy"
