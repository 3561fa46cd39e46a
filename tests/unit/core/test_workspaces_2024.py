"""The 2024-05-18 additions to workspaces, members and package files, driven directly on
the domain (no server): update and delete rules, several roles at once, and the package
file rows with their filters."""

from __future__ import annotations

import pytest

from openworks.core import files, members, packages, projects
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.errors import Invalid
from openworks.core.package_file_model import PackageFileFilter
from openworks.core.package_files import list_package_files
from openworks.core.ports import Page
from openworks.core.roles import ADMIN, DEVELOP, GUEST, OPS, OWNER
from openworks.presenters.package_files import package_file_status
from openworks.store.identity import create_user
from openworks.store.secrets import SecretBox

from .conftest import ROOT


def workspace(core: Core, mode: int = 3, ident: str = "ws_24") -> ProjectRef:
    made = projects.create_project(core, ROOT, projects.NewProject(ident, "WS", mode=mode))
    return ProjectRef(made)


def run_all(core: Core) -> None:
    while packages.run_next_package(core) is not None:
        pass


def test_update_changes_in_place_and_only_upgrades(core: Core) -> None:
    ref = workspace(core, mode=2)
    changes = projects.ProjectChanges(name="New", description="d", standard=True)
    updated = projects.update_project(core, ROOT, ref, changes)
    assert (updated.name, updated.description, updated.mode) == ("New", "d", 3)
    again = projects.get_project(core, ROOT, ref)
    assert (again.name, again.mode) == ("New", 3) and again.modify_time > again.create_time
    with pytest.raises(Invalid, match="stays standard"):
        projects.update_project(core, ROOT, ref, projects.ProjectChanges(standard=False))
    with pytest.raises(Invalid, match="DevRoleDisabled"):
        projects.update_project(core, ROOT, ref, projects.ProjectChanges(disable_development=True))
    with pytest.raises(Invalid, match="DisplayName"):
        projects.update_project(core, ROOT, ref, projects.ProjectChanges(name=" "))


def test_delete_hides_the_workspace_and_waits_for_packages(core: Core) -> None:
    ref = workspace(core)
    fid = files.create_file(core, ROOT, ref, 10, {"FileName": "a", "Content": "select 1"})
    packages.submit_file(core, ROOT, ref, fid, None)  # READY until the worker runs it
    with pytest.raises(Invalid) as busy:
        projects.delete_project(core, ROOT, ref)
    assert busy.value.code == "Invalid.Project.PackagesInFlight"
    run_all(core)
    projects.delete_project(core, ROOT, ref)
    with pytest.raises(Invalid) as gone:
        projects.get_project(core, ROOT, ref)
    assert gone.value.code == "Invalid.Tenant.ProjectNotExists"
    found, total = projects.find_projects(core, ROOT, projects.ProjectFilter(), Page())
    assert total == 0 and found == []


def test_find_projects_filters(core: Core) -> None:
    a = workspace(core, 3, "ws_a")
    b = workspace(core, 2, "ws_b")
    flt = projects.ProjectFilter
    assert [p.id for p in projects.find_projects(core, ROOT, flt(standard=False), Page())[0]] == [
        b.id
    ]
    by_name = projects.find_projects(core, ROOT, flt(identifiers=["ws_a"]), Page())[0]
    assert [p.id for p in by_name] == [a.id]
    page, total = projects.find_projects(core, ROOT, flt(), Page(2, 1))
    assert total == 2 and [p.id for p in page] == [b.id]
    assert projects.find_projects(core, ROOT, flt(status=4), Page())[1] == 0


def test_roles_granted_and_revoked_together(core: Core) -> None:
    ref = workspace(core)
    assert ref.id is not None
    engine = core.store.engine  # type: ignore[attr-defined]
    user_id, _, _ = create_user(engine, SecretBox(b"k" * 32), ROOT.account_id, "dev_24")
    members.add_member_with_roles(core, ROOT, ref.id, user_id, [DEVELOP, OPS, DEVELOP])
    assert members.get_member(core, ROOT, ref.id, user_id).roles == [DEVELOP, OPS]
    members.grant_roles(core, ROOT, ref.id, user_id, [ADMIN, OPS])
    members.revoke_roles(core, ROOT, ref.id, user_id, [OPS, GUEST])
    assert members.get_member(core, ROOT, ref.id, user_id).roles == [ADMIN, DEVELOP]
    with pytest.raises(Invalid, match="without a role"):
        members.revoke_roles(core, ROOT, ref.id, user_id, [ADMIN, DEVELOP])
    for bad in ([], [OWNER], ["boss"]):
        with pytest.raises(Invalid):
            members.grant_roles(core, ROOT, ref.id, user_id, bad)
    found, total = members.find_members(core, ROOT, ref.id, Page(), roles=[ADMIN])
    assert total == 1 and found[0].user.id == user_id
    found, total = members.find_members(core, ROOT, ref.id, Page(), user_ids=[ROOT.user_id])
    assert total == 1 and found[0].roles == [OWNER]


def test_package_files_rows_and_filters(core: Core) -> None:
    ref = workspace(core)
    a = files.create_file(core, ROOT, ref, 10, {"FileName": "a", "Content": "select 1"})
    b = files.create_file(core, ROOT, ref, 6, {"FileName": "b", "Content": "echo"})
    sub_a = packages.submit_file(core, ROOT, ref, a, "first")
    sub_b = packages.submit_file(core, ROOT, ref, b, None)
    run_all(core)
    dep_a = packages.deploy_file(core, ROOT, ref, a, None, None)

    def ids(**flt: object) -> list[int]:
        _, rows, total = list_package_files(core, ROOT, ref, PackageFileFilter(**flt), Page())  # type: ignore[arg-type]
        assert total == len(rows)
        return [r.package.id for r in rows]

    assert ids() == [dep_a, sub_b, sub_a]
    _, rows, _ = list_package_files(core, ROOT, ref, PackageFileFilter(), Page())
    assert [package_file_status(r) for r in rows] == [100, 11, 11]
    assert rows[2].version.comment == "first" and rows[0].prod_version is None
    assert ids(file_ids=[b]) == [sub_b]
    assert ids(file_type=10, change_type="CREATE") == [dep_a, sub_a]
    assert ids(file_name="A") == [dep_a, sub_a]
    assert ids(commit_user="someone") == []
    assert ids(commit_to=0) == [] and len(ids(commit_from=0)) == 3
    run_all(core)
    _, rows, _ = list_package_files(core, ROOT, ref, PackageFileFilter(), Page(1, 1))
    assert package_file_status(rows[0]) == 101 and rows[0].prod_version == 1
