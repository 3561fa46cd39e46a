"""Pipeline runs (2024-05-18) in the Deploy center: the runs tab, a run's page, links both
ways between runs and packages, and hostile run ids — through HTTP, then in a browser."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sdk.clients import Tea2024Client, TeaClient
from tests.sdk.conftest import DEV_KEY, RunningServer, start_server

from .conftest import Shot, new_file, new_workspace, sign_in_with_key
from .test_console_hardening import RAW_VALUES, Console, _sign_in

FINAL = {"Success", "Fail", "Termination", "Cancel"}


def run_until(tea24: Tea2024Client, pid: int, run_id: str, done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        run = tea24.call("GetPipelineRun", ProjectId=pid, Id=run_id)["Pipeline"]
        if done(run) or time.monotonic() > deadline:
            return dict(run)
        time.sleep(0.05)


def stage(run: dict[str, Any], code: str) -> str:
    return str(next(s["Status"] for s in run["Stages"] if s["Code"] == code))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("console-runs"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def world(server: RunningServer) -> Iterator[tuple[Console, Tea2024Client, TeaClient, str]]:
    tea = TeaClient(server.endpoint, *DEV_KEY)
    tea24 = Tea2024Client(server.endpoint, *DEV_KEY)
    pid = new_workspace(tea)
    fid = new_file(tea, pid, "SELECT 1;")
    run_id = tea24.call(
        "CreatePipelineRun", ProjectId=pid, Type="Online", ObjectIds=[str(fid)], RunMode="Auto"
    )["Id"]
    assert run_until(tea24, pid, run_id, lambda r: r["Status"] in FINAL)["Status"] == "Success"
    console = Console(server, pid, fid, 0)
    _sign_in(console)
    yield console, tea24, tea, run_id
    console.close()


def test_runs_tab_lists_runs_with_their_step_bars(world: Any) -> None:
    console, _tea24, _tea, run_id = world
    status, page = console.request("GET", f"/console/w/{console.project}/runs")
    assert status == 200, page
    assert 'aria-current="page">Pipeline runs' in page
    assert run_id in page and "Succeeded (Success)" in page
    for code in ("BUILD_PACKAGE", "DEV_CHECK", "DEV", "PROD_CHECK", "PROD"):
        assert f'data-code="{code}" data-state="done"' in page, code
    assert "Done" in page  # words, not colour alone
    status, body = console.request("GET", f"/console/w/{console.project}/runs.json")
    live = json.loads(body)
    assert status == 200 and live["pending"] is False and live["total"] == 1
    assert run_id in live["html"]
    status, page = console.request("GET", f"/console/w/{console.project}/runs?status=Fail")
    assert status == 200 and "No pipeline run matches." in page
    status, page = console.request("GET", f"/console/w/{console.project}/deployments")
    assert status == 200 and f'href="/console/w/{console.project}/runs"' in page


def test_run_page_shows_stages_items_and_packages(world: Any) -> None:
    console, _tea24, tea, run_id = world
    base = f"/console/w/{console.project}"
    status, page = console.request("GET", f"{base}/runs/{run_id}")
    assert status == 200, page
    for words in ("Build package", "Production checks", "Deploy to production", "Version 1"):
        assert words in page, words
    packages = tea.call("ListDeployments", ProjectId=console.project)["Data"]["Deployments"]
    assert len(packages) == 2
    for package in packages:
        assert f'href="{base}/deployments/{package["Id"]}"' in page
        status, detail = console.request("GET", f"{base}/deployments/{package['Id']}")
        assert status == 200 and f'href="{base}/runs/{run_id}"' in detail
    status, body = console.request("GET", f"{base}/runs/{run_id.upper()}.json")
    assert status == 200 and json.loads(body)["pending"] is False


def test_bad_run_ids_and_filters_are_4xx(world: Any, server: RunningServer) -> None:
    console, tea24, tea, run_id = world
    base = f"/console/w/{console.project}/runs"
    for raw in [*RAW_VALUES, str(uuid.uuid4()), run_id + "0", "x" * 36]:
        for suffix in ("", ".json"):
            status, _text = console.request("GET", f"{base}/{raw}{suffix}")
            expected = {307} if raw == "" and not suffix else {404, 400}  # "/runs/" → "/runs"
            assert status in expected, (raw, status)
    # a run of another workspace is not found through this one
    other = new_workspace(tea)
    fid = new_file(tea, other, "SELECT 2;")
    foreign = tea24.call("CreatePipelineRun", ProjectId=other, Type="Online", ObjectIds=[str(fid)])
    status, page = console.request("GET", f"{base}/{foreign['Id']}")
    assert status == 404 and "does not exist" in page
    for query in ("status=Done", "status=%00", "page=0", "page=99999999999", "page=x"):
        status, _text = console.request("GET", f"{base}?{query}")
        assert status == 400, query
    for raw in RAW_VALUES:
        status, _text = console.request("GET", f"{base}?page={raw}&status={raw}")
        assert status < 500, raw


def test_a_run_waiting_for_approval_in_the_browser(
    page: Any, tea: TeaClient, console_server: RunningServer, shot: Shot
) -> None:
    tea24 = Tea2024Client(console_server.endpoint, *DEV_KEY)
    pid = new_workspace(tea)
    done = console_server.cli("workspace", "set", str(pid), "approval.required=true")
    assert done.returncode == 0, done.stderr
    fid = new_file(tea, pid, "SELECT 3;")
    run_id = tea24.call(
        "CreatePipelineRun", ProjectId=pid, Type="Online", ObjectIds=[str(fid)], RunMode="Auto"
    )["Id"]
    run_until(tea24, pid, run_id, lambda r: stage(r, "PROD") == "Running")

    sign_in_with_key(page, *DEV_KEY, target=f"/console/w/{pid}/runs")
    page.wait_for_url(f"**/console/w/{pid}/runs")
    row = page.locator(f"tr[data-id='{run_id}']")
    bar = row.locator("ol.steps")
    assert bar.get_attribute("aria-label") == f"Stages of pipeline run {run_id}"
    prod = bar.locator("li[data-code='PROD']")
    assert prod.get_attribute("data-state") == "waiting"
    assert "Waiting for approval" in prod.inner_text()
    assert "Done" in bar.locator("li[data-code='DEV']").inner_text()
    shot(page, "runs")

    row.get_by_role("link", name=run_id).click()
    page.wait_for_url(f"**/runs/{run_id}")
    assert "waits for approval" in page.inner_text("#run-waiting")
    page.locator("#run-waiting a").click()
    page.wait_for_url("**/deployments/*")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url("**/deployments/*")
    page.locator("#pkg-run").click()
    page.wait_for_url(f"**/runs/{run_id}")
    page.wait_for_selector("#run-status:has-text('Succeeded (Success)')")
    assert page.locator("li[data-code='PROD'][data-state='done']").count() == 1
    shot(page, "run")
