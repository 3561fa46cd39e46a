"""Test control (``/_openworks/``): modes, forced failures, reset and seed, seen through the
official SDKs. Most tests use the pytest plugin's own fixtures (``openworks.testing``)."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_dataworks_public20200518 import models

from openworks.core.approvals import approve_package
from openworks.core.model import Principal
from openworks.core.workspace_settings import set_settings
from openworks.store.identity import create_user, lookup_key
from openworks.testing import ControlError, OpenworksServer

from .conftest import DEV_KEY, RunningServer, start_server

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(
    url: str, method: str = "GET", body: bytes | None = None, auth: tuple[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with NO_PROXY.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, {"raw": raw.decode(errors="replace")}


def new_file(client: Any, project_id: int, name: str) -> int:
    request = models.CreateFileRequest(
        project_id=project_id, file_name=name, file_type=10, content="select 1;"
    )
    return int(client.create_file(request).body.data)


def submit(client: Any, project_id: int, file_id: int) -> int:
    request = models.SubmitFileRequest(project_id=project_id, file_id=file_id)
    return int(client.submit_file(request).body.data)


def deployment(client: Any, project_id: int, deployment_id: int) -> Any:
    request = models.GetDeploymentRequest(project_id=project_id, deployment_id=deployment_id)
    return client.get_deployment(request).body.data


def settle(client: Any, project_id: int, deployment_id: int, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        data = deployment(client, project_id, deployment_id)
        if data.deployment.status != 0 or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


# -- modes --------------------------------------------------------------------------------


def test_instant_mode_runs_packages_at_once(
    openworks_server: OpenworksServer, dataworks_client: Any, dataworks_workspace: int
) -> None:
    assert openworks_server.state()["mode"] == "instant"
    package = submit(
        dataworks_client, dataworks_workspace, new_file(dataworks_client, dataworks_workspace, "a")
    )
    assert settle(dataworks_client, dataworks_workspace, package).deployment.status == 1


def test_manual_mode_holds_until_released(
    openworks_server: OpenworksServer, dataworks_client: Any, dataworks_workspace: int
) -> None:
    openworks_server.set_mode("manual")
    first = submit(
        dataworks_client, dataworks_workspace, new_file(dataworks_client, dataworks_workspace, "a")
    )
    second = submit(
        dataworks_client, dataworks_workspace, new_file(dataworks_client, dataworks_workspace, "b")
    )
    time.sleep(0.6)  # longer than the worker's idle wait
    assert deployment(dataworks_client, dataworks_workspace, first).deployment.status == 0

    assert openworks_server.release(first) == [first]
    assert settle(dataworks_client, dataworks_workspace, first).deployment.status == 1
    assert deployment(dataworks_client, dataworks_workspace, second).deployment.status == 0
    with pytest.raises(ControlError) as again:
        openworks_server.release(first)
    assert (again.value.status, again.value.code) == (400, "Invalid.Control.NotHeld")

    assert openworks_server.release() == [second]  # None: every held package
    assert settle(dataworks_client, dataworks_workspace, second).deployment.status == 1


def test_delay_mode_runs_after_the_delay(
    openworks_server: OpenworksServer, dataworks_client: Any, dataworks_workspace: int
) -> None:
    openworks_server.set_mode("delay", delay_ms=1200)
    package = submit(
        dataworks_client, dataworks_workspace, new_file(dataworks_client, dataworks_workspace, "a")
    )
    time.sleep(0.4)
    assert deployment(dataworks_client, dataworks_workspace, package).deployment.status == 0

    done = settle(dataworks_client, dataworks_workspace, package).deployment
    assert done.status == 1
    assert done.execute_time - done.create_time >= 1200


def test_manual_gate_composes_with_approval(
    openworks_server: OpenworksServer, dataworks_client: Any, dataworks_workspace: int
) -> None:
    service = openworks_server.service
    assert service is not None
    root = Principal(service.settings.account_id, service.settings.account_id, "root")
    from openworks.core.access import ProjectRef

    set_settings(
        service.core, root, ProjectRef(id=dataworks_workspace), {"approval.required": "true"}
    )
    file_id = new_file(dataworks_client, dataworks_workspace, "a")
    commit = submit(dataworks_client, dataworks_workspace, file_id)
    assert settle(dataworks_client, dataworks_workspace, commit).deployment.status == 1

    openworks_server.set_mode("manual")
    request = models.DeployFileRequest(project_id=dataworks_workspace, file_id=file_id)
    deploy = int(dataworks_client.deploy_file(request).body.data)
    assert openworks_server.release(deploy) == [deploy]
    time.sleep(0.6)  # released from the mode, still waiting for approval
    assert deployment(dataworks_client, dataworks_workspace, deploy).deployment.status == 0

    approve_package(service.core, root, deploy)
    assert deployment(dataworks_client, dataworks_workspace, deploy).deployment.status == 1


# -- forced failures ----------------------------------------------------------------------


def test_fail_next_fails_exactly_n_packages(
    openworks_server: OpenworksServer,
    dataworks_client: Any,
    legacy_dataworks_client: Any,
    dataworks_workspace: int,
) -> None:
    openworks_server.fail_next(n=2, message="injected: table not found", item_status=4)
    packages = [
        submit(
            dataworks_client,
            dataworks_workspace,
            new_file(dataworks_client, dataworks_workspace, name),
        )
        for name in ("a", "b", "c")
    ]
    results = [settle(dataworks_client, dataworks_workspace, p) for p in packages]
    assert [r.deployment.status for r in results] == [2, 2, 1]
    assert results[0].deployment.error_message == "injected: table not found"
    assert [i.status for i in results[1].deployed_items] == [4]
    assert openworks_server.state()["fail_remaining"] == 0

    from aliyunsdkdataworks_public.request.v20200518.GetDeploymentRequest import (
        GetDeploymentRequest,
    )

    request = GetDeploymentRequest()
    request.set_ProjectId(dataworks_workspace)
    request.set_DeploymentId(packages[0])
    body = json.loads(legacy_dataworks_client.do_action_with_exception(request))
    assert body["Data"]["Deployment"]["Status"] == 2
    # A failed commit leaves the file uncommitted: it can be submitted again.
    file = dataworks_client.get_file(
        models.GetFileRequest(
            project_id=dataworks_workspace, file_id=results[0].deployed_items[0].file_id
        )
    ).body.data.file
    assert file.commit_status == 0


# -- reset, seed and the HTTP surface ------------------------------------------------------


def test_reset_wipes_everything_but_the_root_key(
    openworks_server: OpenworksServer, dataworks_client: Any, dataworks_workspace: int
) -> None:
    service = openworks_server.service
    assert service is not None
    box = service.keys.box
    _user, key_id, _secret = create_user(service.engine, box, service.settings.account_id, "bob")
    openworks_server.set_mode("manual")

    openworks_server.reset()

    assert lookup_key(service.engine, box, key_id) is None
    assert openworks_server.state()["mode"] == "instant"
    with pytest.raises(Exception) as gone:
        dataworks_client.get_project(models.GetProjectRequest(project_id=dataworks_workspace))
    assert gone.value.code == "Invalid.Tenant.ProjectNotExists"
    listed = dataworks_client.list_projects(models.ListProjectsRequest()).body
    assert listed.page_result.total_count == 0


def test_seed_makes_ids_reproducible(
    openworks_server: OpenworksServer, dataworks_client: Any
) -> None:
    def run() -> tuple[int, int, int]:
        project = openworks_server.create_workspace("seeded")
        file_id = new_file(dataworks_client, project, "a")
        return project, file_id, submit(dataworks_client, project, file_id)

    openworks_server.seed(3)
    first = run()
    openworks_server.seed(3)
    assert run() == first
    openworks_server.seed(4)
    other = run()
    assert other != first
    assert other[0] - first[0] == 1000  # starting points 1000 apart per seed step


@pytest.mark.openworks_seed(5)
def test_seed_marker(openworks_server: OpenworksServer) -> None:
    assert openworks_server.state()["seed"] == 5
    assert openworks_server.create_workspace() == 10_000 + 5 * 1000 + 1


def test_control_rejects_bad_requests(openworks_server: OpenworksServer) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("mode", {"mode": "turbo"}, "Invalid.Control.Mode"),
        ("mode", {"mode": "delay", "delay_ms": 0}, "Invalid.Control.Delay"),
        ("mode", {"mode": "delay", "delay_ms": "5"}, "InvalidBody"),
        ("fail-next", {"item_status": 1}, "Invalid.Control.Failure"),
        ("fail-next", {"n": -1}, "Invalid.Control.Failure"),
        ("seed", {"seed": -1}, "InvalidBody"),
        ("seed", {}, "InvalidBody"),
    ]
    for name, body, code in cases:
        with pytest.raises(ControlError) as refused:
            openworks_server._control("POST", name, body)
        assert (refused.value.status, refused.value.code) == (400, code), (name, body)
    auth = (openworks_server.access_key_id, openworks_server.access_key_secret)
    status, document = http(f"{openworks_server.url}/_openworks/mode", "POST", b"[1", auth)
    assert (status, document["Code"]) == (400, "InvalidBody")
    assert document["RequestId"]
    status, document = http(f"{openworks_server.url}/_openworks/nope", "POST", b"{}", auth)
    assert (status, document["Code"]) == (404, "NotFound")


def test_control_needs_the_root_key(openworks_server: OpenworksServer) -> None:
    url = f"{openworks_server.url}/_openworks/reset"
    for auth in (None, (openworks_server.access_key_id, "wrong"), ("other", "x")):
        status, document = http(url, "POST", b"{}", auth)
        assert (status, document["Code"]) == (401, "InvalidCredentials")


def test_control_routes_absent_without_the_flag(server: RunningServer) -> None:
    status, _ = http(f"http://{server.endpoint}/_openworks/state", auth=DEV_KEY)
    assert status == 404


def test_serve_control_flag(tmp_path: Path) -> None:
    """``openworks serve --control`` (on PostgreSQL when the suite runs there)."""
    running = start_server(tmp_path, args=("--control",))
    try:
        base = f"http://{running.endpoint}/_openworks"
        status, _ = http(f"{base}/state")
        assert status == 401
        status, state = http(f"{base}/seed", "POST", b'{"seed": 2}', DEV_KEY)
        assert (status, state["seed"]) == (200, 2)
        from alibabacloud_dataworks_public20200518.client import Client
        from alibabacloud_tea_openapi.models import Config

        client = Client(
            Config(
                access_key_id=DEV_KEY[0],
                access_key_secret=DEV_KEY[1],
                endpoint=running.endpoint,
                protocol="HTTP",
            )
        )
        request = models.CreateProjectRequest(project_identifier="ctl_ws", project_name="ctl")
        first = int(client.create_project(request).body.data)
        assert first == 10_000 + 2 * 1000 + 1
        status, _ = http(f"{base}/seed", "POST", b'{"seed": 2}', DEV_KEY)
        assert status == 200
        assert int(client.create_project(request).body.data) == first
    finally:
        running.stop()
    assert "test control API enabled" in running.log()


# -- the modes act on pipeline-run stages (2024-05-18) -------------------------------------


def _run_2024(client24: Any, project_id: int, file_id: int) -> str:
    from alibabacloud_dataworks_public20240518 import models as m24

    request = m24.CreatePipelineRunRequest(
        project_id=project_id, type="Online", object_ids=[str(file_id)]
    )
    return str(client24.create_pipeline_run(request).body.id)


def _stages(client24: Any, project_id: int, run_id: str) -> tuple[str, dict[str, str], str]:
    from alibabacloud_dataworks_public20240518 import models as m24

    request = m24.GetPipelineRunRequest(project_id=project_id, id=run_id)
    run = client24.get_pipeline_run(request).body.pipeline
    return run.status, {s.code: s.status for s in run.stages}, run.message or ""


def _exec(client24: Any, project_id: int, run_id: str, code: str) -> None:
    from alibabacloud_dataworks_public20240518 import models as m24

    request = m24.ExecPipelineRunStageRequest(project_id=project_id, id=run_id, code=code)
    assert client24.exec_pipeline_run_stage(request).body.success


def _until(client24: Any, project_id: int, run_id: str, code: str, wanted: str) -> tuple:
    deadline = time.monotonic() + 10
    while True:
        status, stages, message = _stages(client24, project_id, run_id)
        if stages[code] == wanted or time.monotonic() > deadline:
            return status, stages, message
        time.sleep(0.05)


def test_manual_mode_holds_a_run_s_deploy_stage(
    openworks_server: OpenworksServer,
    dataworks_client: Any,
    dataworks_client_2024: Any,
    dataworks_workspace: int,
) -> None:
    openworks_server.set_mode("manual")
    file_id = new_file(dataworks_client, dataworks_workspace, "a")
    run_id = _run_2024(dataworks_client_2024, dataworks_workspace, file_id)
    _exec(dataworks_client_2024, dataworks_workspace, run_id, "DEV_CHECK")
    _until(dataworks_client_2024, dataworks_workspace, run_id, "DEV_CHECK", "Success")
    _exec(dataworks_client_2024, dataworks_workspace, run_id, "DEV")
    time.sleep(0.6)  # longer than the worker's idle wait
    status, stages, _ = _stages(dataworks_client_2024, dataworks_workspace, run_id)
    assert (status, stages["DEV"]) == ("Running", "Running")  # its package is held
    assert len(openworks_server.release()) == 1
    status, stages, _ = _until(dataworks_client_2024, dataworks_workspace, run_id, "DEV", "Success")
    assert (status, stages["PROD_CHECK"]) == ("Running", "Init")


def test_fail_next_fails_a_run_s_deploy_stage(
    openworks_server: OpenworksServer,
    dataworks_client: Any,
    dataworks_client_2024: Any,
    dataworks_workspace: int,
) -> None:
    openworks_server.fail_next(n=1, message="injected: table not found")
    file_id = new_file(dataworks_client, dataworks_workspace, "a")
    run_id = _run_2024(dataworks_client_2024, dataworks_workspace, file_id)
    _exec(dataworks_client_2024, dataworks_workspace, run_id, "DEV_CHECK")
    _until(dataworks_client_2024, dataworks_workspace, run_id, "DEV_CHECK", "Success")
    _exec(dataworks_client_2024, dataworks_workspace, run_id, "DEV")
    status, stages, message = _until(
        dataworks_client_2024, dataworks_workspace, run_id, "DEV", "Fail"
    )
    assert (status, stages["DEV"]) == ("Fail", "Fail")
    assert "injected: table not found" in message
