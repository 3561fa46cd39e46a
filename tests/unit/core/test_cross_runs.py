"""Cross-workspace deployment in the domain: environments (pairs, admins, one per pair),
the run store round trip, and the rewriting of output names on the way to the target."""

from __future__ import annotations

import pytest

from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.cross_envs import add_environment, list_environments, remove_environment
from openworks.core.cross_exec import rewrite_names
from openworks.core.cross_model import READY, CrossItem, CrossRun, RunFilter
from openworks.core.errors import Invalid, NotFound
from openworks.core.model import Page, Project

from .conftest import ROOT


def _project(core: Core, identifier: str) -> int:
    with core.store.transaction(write=True) as tx:
        project = Project(0, ROOT.account_id, identifier, identifier, 3, ROOT.user_id)
        return tx.insert_project(project)


def test_environments_pair_once_and_list_by_source(core: Core) -> None:
    a, b = _project(core, "src_ws"), _project(core, "tgt_ws")
    env = add_environment(core, ROOT, ProjectRef(a), ProjectRef(b), " promote ")
    assert (env.name, env.source_project_id, env.target_project_id) == ("promote", a, b)
    with pytest.raises(Invalid) as twice:
        add_environment(core, ROOT, ProjectRef(a), ProjectRef(b), "again")
    assert twice.value.code == "Invalid.DeploymentEnvironment.Exists"
    with pytest.raises(Invalid) as same:
        add_environment(core, ROOT, ProjectRef(a), ProjectRef(a), "self")
    assert same.value.code == "Invalid.DeploymentEnvironment.SameWorkspace"
    assert [e.id for e in list_environments(core, ROOT, ProjectRef(a))] == [env.id]
    assert list_environments(core, ROOT, ProjectRef(b)) == []
    remove_environment(core, ROOT, env.id)
    with pytest.raises(NotFound):
        remove_environment(core, ROOT, env.id)


def test_run_round_trip_and_mapping(core: Core) -> None:
    a, b = _project(core, "src2"), _project(core, "tgt2")
    env = add_environment(core, ROOT, ProjectRef(a), ProjectRef(b), "e")
    item = CrossItem(7, "Node", "n", 1, "Create", True, None)
    run = CrossRun("r1", env.id, a, b, "Online", 7, "Node", "n", "1", "Create", READY,
                   ROOT.user_id, 1, 1, items=[item])  # fmt: skip
    with core.store.transaction(write=True) as tx:
        store = tx.cross()
        store.insert_run(run)
        store.set_mapped(env.id, "file", 7, 70)
        store.set_mapped(env.id, "file", 7, 71)
    with core.store.transaction() as tx:
        store = tx.cross()
        assert store.run("r1") == run
        assert store.mapped(env.id, "file", 7) == 71 and store.mapped(env.id, "workflow", 7) is None
        assert [r.id for r in store.active_runs(env.id)] == ["r1"]
        found, total = store.list_runs(a, RunFilter(status=READY), Page(1, 10))
        assert (total, [r.id for r in found]) == (1, ["r1"])
        assert store.list_runs(a, RunFilter(status="Success"), Page(1, 10))[1] == 0
    with pytest.raises(Invalid) as busy:
        remove_environment(core, ROOT, env.id)
    assert busy.value.code == "Invalid.DeploymentEnvironment.Busy"


def test_output_names_follow_the_workspace() -> None:
    src = Project(1, "a", "src", "src", 3, "o")
    tgt = Project(2, "a", "tgt", "tgt", 3, "o")
    config = {"InputList": "src.up,other.x", "OutputList": "src.n_out", "Other": "src.y"}
    assert rewrite_names(dict(config), src, tgt) == {
        "InputList": "tgt.up,other.x",
        "OutputList": "tgt.n_out",
        "Other": "src.y",
    }
