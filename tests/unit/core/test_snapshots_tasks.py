"""The pure rules of 2024 snapshots and scheduler tasks: types, ids, environments, sorting."""

from __future__ import annotations

import pytest

from openworks.core import snapshots, tasks
from openworks.core.errors import Invalid
from openworks.core.model import Env, FileVersion, Node

ALL = frozenset(snapshots.SNAPSHOT_TYPES)


def version(status: str, change: str = "UPDATE") -> FileVersion:
    return FileVersion(
        file_id=7, version=3, change_type=change, status=status, commit_time=1, commit_user="u",
        name="n", file_type=10, content="", folder_path="", owner="u", config={}, node_id=9,
    )  # fmt: skip


def node(status: str = "NORMAL", **config: object) -> Node:
    return Node(
        node_id=9, env=2, project_id=1, file_id=7, file_version=3, name="n", file_type=10,
        owner="u", content="", config=dict(config), inputs=[], outputs=[], status=status,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "change", "kind", "stage"),
    [
        ("COMMITTING", "CREATE", "Saved", None),
        ("COMMITTED", "CREATE", "Saved", "DEV"),
        ("DEPLOYING", "UPDATE", "Saved", "DEV"),
        ("CANCELLED", "UPDATE", "Saved", None),
        ("DEPLOYED", "CREATE", "Deployed", "PROD"),
        ("DEPLOYED", "UPDATE", "Deployed", "PROD"),
        ("DEPLOYED", "DELETE", "UnDeployed", "PROD"),
        ("COMMITTED", "DELETE", "Saved", "DEV"),
    ],
)
def test_snapshot_type_and_stage(status: str, change: str, kind: str, stage: str | None) -> None:
    v = version(status, change)
    assert (snapshots.snapshot_type(v), snapshots.stage_code(v)) == (kind, stage)
    assert snapshots.snapshot_id(v) == "7:3"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Saved", {"Saved"}),
        ("saved,DEPLOYED", {"Saved", "Deployed"}),
        (" Saved , UnDeployed ", {"Saved", "UnDeployed"}),
        ('["Deployed","UnDeployed"]', {"Deployed", "UnDeployed"}),
        ("Saved,Deployed,UnDeployed", set(ALL)),
    ],
)
def test_parse_types(text: str, found: set[str]) -> None:
    assert snapshots.parse_types(text) == found


@pytest.mark.parametrize("text", ["", "Bogus", "Saved,", "[1]", "[", '{"a":1}', "[null]"])
def test_parse_types_refuses(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        snapshots.parse_types(text)
    assert caught.value.code == "Invalid.Param"


def test_parse_snapshot_id() -> None:
    assert snapshots.parse_snapshot_id("12:3") == (12, 3)
    assert snapshots.parse_snapshot_id(" 12 : 3 ") == (12, 3)
    for bad in ("12", "a:1", "1:b", ":1", "1:", "1:2:3", "\u0661:2", "1" * 19 + ":1", "-1:2"):
        with pytest.raises(Invalid):
            snapshots.parse_snapshot_id(bad)


def test_parse_env_and_sort() -> None:
    assert tasks.parse_env(None) is Env.PROD and tasks.parse_env("") is Env.PROD
    assert tasks.parse_env("Dev") is Env.DEV and tasks.parse_env("PROD") is Env.PROD
    for bad in ("Test", "LOCAL", "0"):
        with pytest.raises(Invalid):
            tasks.parse_env(bad)
    assert tasks.parse_sort(None) == ("Id", True)
    assert tasks.parse_sort("modifytime") == ("ModifyTime", False)
    assert tasks.parse_sort("CreateTime Desc") == ("CreateTime", True)
    assert tasks.parse_sort(" ") == ("Id", True)
    for bad in ("Name", "Id Up", "Id Asc extra"):
        with pytest.raises(Invalid):
            tasks.parse_sort(bad)


def test_recurrence_and_trigger_type() -> None:
    assert (tasks.recurrence(node()), tasks.trigger_type(node())) == ("Normal", "Scheduler")
    assert tasks.recurrence(node("OFFLINE")) == "Pause"
    assert tasks.recurrence(node(SchedulerType="PAUSE")) == "Pause"
    assert tasks.recurrence(node(SchedulerType="SKIP")) == "Skip"
    assert tasks.trigger_type(node(SchedulerType="MANUAL")) == "Manual"
