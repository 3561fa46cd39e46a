"""Folders, workflows, parse notes and nodes driven through the domain on a real store."""

from __future__ import annotations

import pytest

from openworks.core import files, folders, nodes, packages
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.errors import Invalid, NotFound
from openworks.core.model import Env
from openworks.core.ports import Page
from openworks.core.projects import NewProject, create_project

from .conftest import ROOT


def workspace(core: Core, ident: str = "ws_f") -> ProjectRef:
    return ProjectRef(create_project(core, ROOT, NewProject(ident, "WS", mode=3)))


def run_all(core: Core) -> None:
    while packages.run_next_package(core) is not None:
        pass


def note(core: Core, file_id: int) -> tuple[bool, str] | None:
    with core.store.transaction() as tx:
        found = tx.parse_note(file_id)
    return None if found is None else (found.ok, found.message)


def test_parse_note_records_outcome_and_keeps_lists(core: Core) -> None:
    ref = workspace(core)
    fid = files.create_file(
        core, ROOT, ref, 10,
        {"FileName": "p", "AutoParsing": True, "Content": "INSERT INTO TABLE o SELECT * FROM i",
         "InputList": "ws_f_root"},
    )  # fmt: skip
    assert note(core, fid) == (True, "")
    _, f = files.get_file(core, ROOT, ref, fid, None)
    assert (f.config["InputList"], f.config["OutputList"]) == ("ws_f.i,ws_f_root", "ws_f.o")

    files.update_file(core, ROOT, ref, fid, {"Content": "SELECT ( FROM"})
    ok, message = note(core, fid) or (True, "")
    assert not ok and "could not be parsed" in message
    _, f = files.get_file(core, ROOT, ref, fid, None)
    assert (f.config["InputList"], f.config["OutputList"]) == ("ws_f.i,ws_f_root", "ws_f.o")

    # without AutoParsing nothing is parsed and no note changes
    plain = files.create_file(core, ROOT, ref, 10, {"FileName": "q", "Content": "SELECT ("})
    assert note(core, plain) is None


def test_workflow_rename_moves_folders_and_files(core: Core) -> None:
    ref = workspace(core)
    fid = files.create_file(
        core, ROOT, ref, 10,
        {"FileName": "a", "FileFolderPath": "Business Flow/w/MaxCompute/x/y",
         "CreateFolderIfNotExists": True},
    )  # fmt: skip
    (business,), total = folders.list_business(core, ROOT, ref, None, Page())
    assert total == 1 and business.name == "w" and business.owner == ROOT.user_id
    workflow = folders.get_folder(core, ROOT, ref, None, "业务流程/w")
    folders.update_folder(core, ROOT, ref, workflow.id, "v")
    assert folders.get_business(core, ROOT, ref, business.id).name == "v"
    _, f = files.get_file(core, ROOT, ref, fid, None)
    assert (f.folder_path, f.business_id) == ("业务流程/v/MaxCompute/x/y", business.id)
    assert folders.get_folder(core, ROOT, ref, None, "业务流程/v/MaxCompute/x").id
    with pytest.raises(NotFound):
        folders.get_folder(core, ROOT, ref, None, "业务流程/w/MaxCompute/x")
    children, _ = folders.list_folders(core, ROOT, ref, "业务流程/v/MaxCompute", Page())
    assert [c.path for c in children] == ["业务流程/v/MaxCompute/x"]

    # a workflow's folders live under its own root only
    with pytest.raises(Invalid) as err:
        folders.create_folder(core, ROOT, ref, "手动业务流程/v/MaxCompute")
    assert err.value.code == "Invalid.Folder.Path"
    with pytest.raises(Invalid) as err:
        folders.create_business(core, ROOT, ref, "bad/name", None, None, None)
    assert err.value.code == "Invalid.Folder.Name"


def test_offline_node_and_redeploy(core: Core) -> None:
    ref = workspace(core)
    fid = files.create_file(core, ROOT, ref, 6, {"FileName": "n", "Content": "echo"})
    packages.submit_file(core, ROOT, ref, fid, None)
    run_all(core)
    packages.deploy_file(core, ROOT, ref, fid, None, None)
    run_all(core)
    _, f = files.get_file(core, ROOT, ref, fid, None)
    assert f.node_id is not None
    nodes.offline_node(core, ROOT, ref, f.node_id)
    nodes.offline_node(core, ROOT, ref, f.node_id)  # idempotent
    view = nodes.get_node(core, ROOT, f.node_id, Env.PROD)
    assert nodes.scheduler_type(view.node) == "PAUSE"
    assert nodes.scheduler_type(nodes.get_node(core, ROOT, f.node_id, Env.DEV).node) == "NORMAL"
    files.update_file(core, ROOT, ref, fid, {"Content": "echo 2"})
    packages.submit_file(core, ROOT, ref, fid, None)
    run_all(core)
    packages.deploy_file(core, ROOT, ref, fid, None, None)
    run_all(core)
    view = nodes.get_node(core, ROOT, f.node_id, Env.PROD)
    assert (nodes.scheduler_type(view.node), view.node.content) == ("NORMAL", "echo 2")
    with pytest.raises(Invalid):
        nodes.parse_env("STAGING")
    assert nodes.parse_env("prod") == Env.PROD
