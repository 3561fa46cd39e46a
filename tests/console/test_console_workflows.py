"""A workflow in the console: a pipeline run of a workflow definition links its object to
the workflow's folder in the Files list (a workflow has no file page), its nodes to their
file pages; the Files list of a workflow folder shows the tables related to it
(EstablishRelationTableToBusiness) — through HTTP."""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sdk.clients import Tea2024Client, TeaClient
from tests.sdk.conftest import DEV_KEY, RunningServer, start_server

from .conftest import new_file, new_workspace
from .test_console_hardening import Console, _sign_in
from .test_console_runs import FINAL, run_until

ROOT = "业务流程"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("console-workflows"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def world(server: RunningServer) -> Iterator[tuple[Console, TeaClient, int, int, str]]:
    tea = TeaClient(server.endpoint, *DEV_KEY)
    tea24 = Tea2024Client(server.endpoint, *DEV_KEY)
    pid = new_workspace(tea)
    fid = new_file(tea, pid, "SELECT 1;")  # in the workflow "sales"
    listed = tea.call("ListBusiness", ProjectId=pid, Keyword="sales", PageNumber=1, PageSize=10)
    bid = int(listed["Data"]["Business"][0]["BusinessId"])
    run_id = tea24.call(
        "CreatePipelineRun", ProjectId=pid, Type="Online", ObjectIds=[str(bid)], RunMode="Auto"
    )["Id"]
    assert run_until(tea24, pid, run_id, lambda r: r["Status"] in FINAL)["Status"] == "Success"
    console = Console(server, pid, fid, 0)
    _sign_in(console)
    yield console, tea, fid, bid, run_id
    console.close()


def files_of(project: int, folder: str) -> str:
    return html.escape(f"/console/w/{project}/files?" + urllib.parse.urlencode({"folder": folder}))


def test_a_workflow_run_links_to_the_workflow_folder(world: Any) -> None:
    console, _tea, fid, bid, run_id = world
    base = f"/console/w/{console.project}"
    for suffix in ("", ".json"):
        status, page = console.request("GET", f"{base}/runs/{run_id}{suffix}")
        assert status == 200, page
        if suffix:
            page = json.loads(page)["html"]
        assert f"{base}/files/{bid}" not in page  # a workflow has no file page
        assert page.count(f'href="{files_of(console.project, f"{ROOT}/sales")}"') == 2
        assert f'href="{base}/files/{fid}"' in page  # its node still links to its page
        assert "(WorkflowDefinition " in page and "Workflow sales" in page


def test_the_files_list_of_a_workflow_shows_its_tables(world: Any) -> None:
    console, tea, _fid, bid, _run_id = world
    base = f"/console/w/{console.project}/files"
    status, page = console.request(
        "GET", f"{base}?" + urllib.parse.urlencode({"folder": f"{ROOT}/sales"})
    )
    assert status == 200 and "Tables of workflow sales" in page
    assert "No table is related to this workflow" in page
    for guid in ("odps.sales.ods_orders", "odps.sales.dim_shop"):
        tea.call(
            "EstablishRelationTableToBusiness",
            ProjectId=console.project,
            BusinessId=str(bid),
            TableGuid=guid,
        )
    for folder in (f"{ROOT}/sales", f"{ROOT}/sales/MaxCompute"):
        status, page = console.request(
            "GET", f"{base}?" + urllib.parse.urlencode({"folder": folder})
        )
        assert status == 200
        assert "<code>odps.sales.dim_shop</code>" in page
        assert "<code>odps.sales.ods_orders</code>" in page
    for folder in ("", ROOT, f"{ROOT}/nosuch"):  # above or outside any workflow: no section
        status, page = console.request(
            "GET", f"{base}?" + urllib.parse.urlencode({"folder": folder})
        )
        assert status == 200 and "Tables of workflow" not in page
