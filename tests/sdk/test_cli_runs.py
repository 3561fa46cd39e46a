"""``openworks deployments list|show|wait|approve|reject`` with pipeline runs (2024-05-18).

Runs are created through the official 2024 SDK against a real server; the CLI reads the
same database.
"""

from __future__ import annotations

import json
import subprocess
import uuid

from .clients import Tea2024Client, TeaClient
from .conftest import DEV_KEY, RunningServer
from .test_v2024_pipeline import create, get, new_file, statuses, wait, workspace

ROOT = "1000000000000001"


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_show_and_wait_take_a_run_id(tea24: Tea2024Client, tea: TeaClient, server) -> None:
    pid = workspace(tea, server)
    fid = new_file(tea, pid)
    run_id = create(tea24, pid, fid, Description="from the CLI test")

    shown = json.loads(ok(server.cli("deployments", "show", run_id)))
    api = get(tea24, pid, run_id)
    for key in ("Id", "Status", "Creator", "Description", "ProjectId"):
        assert shown[key] == api[key], key
    assert [s["Code"] for s in shown["Stages"]] == [s["Code"] for s in api["Stages"]]
    assert shown["Type"] == "Online" and shown["ObjectId"] == str(fid)
    assert shown["Packages"] == [] and shown["WaitingForApproval"] is False
    assert [i["Id"] for i in shown["Items"]] == [str(fid)]

    # Normal mode: wait says which stage waits to be executed, then times out (exit 2)
    waited = server.cli("deployments", "wait", run_id, "--timeout", "0.3", "--interval", "0.05")
    assert waited.returncode == 2, waited.stderr
    assert "stage DEV_CHECK waits to be executed" in waited.stderr
    assert waited.stderr.count("waits to be executed") == 1

    for code in ("DEV_CHECK", "DEV", "PROD_CHECK", "PROD"):
        wait(tea24, pid, run_id, lambda r: "Running" not in statuses(r).values())
        tea24.call("ExecPipelineRunStage", ProjectId=pid, Id=run_id, Code=code)
    done = server.cli("deployments", "wait", run_id.upper(), "--timeout", "20")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"pipeline run {run_id}: Success"

    shown = json.loads(ok(server.cli("deployments", "show", run_id, "--workspace", str(pid))))
    assert shown["Status"] == "Success"
    packages = shown["Packages"]
    assert [(p["FromEnvironment"], p["ToEnvironment"], p["Status"]) for p in packages] == [
        (0, 1, 1),
        (1, 2, 1),
    ]
    assert shown["Items"][0]["Version"] == 1
    # the packages are ordinary packages
    one = json.loads(ok(server.cli("deployments", "show", str(packages[1]["DeploymentId"]))))
    assert one["Status"] == 1


def test_list_runs_draws_the_stages(tea24: Tea2024Client, tea: TeaClient, server) -> None:
    pid = workspace(tea, server)
    first = new_file(tea, pid)
    run_id = create(tea24, pid, first)
    tea.call("SubmitFile", ProjectId=pid, FileId=new_file(tea, pid))  # a 2020 mirror run
    table = ok(server.cli("deployments", "list", "--workspace", str(pid), "--runs"))
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATUS", "STAGES"]
    row = next(line for line in lines if line.startswith(run_id))
    assert "BUILD_PACKAGE\u2713 DEV_CHECK\u00b7 DEV\u00b7 PROD_CHECK\u00b7 PROD\u00b7" in row
    assert "Running" in row and str(first) in row and ROOT in row
    assert lines[-1] == "2 of 2 (page 1)"

    listed = json.loads(
        ok(
            server.cli(
                "deployments", "list", "--workspace", str(pid), "--runs", "--json",
                "--object", str(first), "--status", "running",
            )
        )
    )  # fmt: skip
    assert listed["TotalCount"] == 1
    assert listed["PipelineRuns"][0]["Id"] == run_id
    assert "Items" not in listed["PipelineRuns"][0]

    paged = ok(
        server.cli("deployments", "list", "--workspace", str(pid), "--runs", "--page-size", "1")
    )
    assert paged.splitlines()[-1] == "1 of 2 (page 1)"


def test_list_runs_refuses_what_does_not_apply(server: RunningServer, tea: TeaClient) -> None:
    pid = str(workspace(tea, server))
    cases = [
        (("--runs", "--status", "1"), "is not a pipeline run status"),
        (("--runs", "--keyword", "x"), "--keyword filter packages, not runs"),
        (("--object", "12"), "--object filters pipeline runs: add --runs"),
        (("--status", "Running"), "must be an integer"),
    ]
    for extra, words in cases:
        done = server.cli("deployments", "list", "--workspace", pid, *extra)
        assert done.returncode == 2, (extra, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_unknown_and_malformed_run_ids(server: RunningServer, tea: TeaClient) -> None:
    missing = str(uuid.uuid4())
    for command in ("show", "wait", "approve"):
        done = server.cli("deployments", command, missing)
        assert done.returncode == 1, done.stderr
        assert f"The pipeline run {missing} does not exist" in done.stderr
    done = server.cli("deployments", "show", "not-a-run-id")
    assert done.returncode == 2
    assert "or a pipeline run ID (a UUID)" in done.stderr and "Traceback" not in done.stderr
    # another workspace named with --workspace: the run is not there
    pid = workspace(tea, server)
    other = workspace(tea, server)
    run_id = create(Tea2024Client(server.endpoint, *DEV_KEY), pid, new_file(tea, pid))
    done = server.cli("deployments", "show", run_id, "--workspace", str(other))
    assert done.returncode == 1 and "does not exist in workspace" in done.stderr


def test_approve_and_reject_a_run(tea24: Tea2024Client, tea: TeaClient, server) -> None:
    pid = workspace(tea, server, approval_required="true")
    run_id = create(tea24, pid, new_file(tea, pid), RunMode="Auto")
    held = wait(tea24, pid, run_id, lambda r: statuses(r)["PROD"] == "Running")
    assert held["Status"] == "Running"
    shown = server.cli("deployments", "show", run_id)
    document = json.loads(ok(shown))
    assert document["WaitingForApproval"] is True and document["Reviewers"]
    assert "stage PROD" in shown.stderr and "is waiting for approval" in shown.stderr
    table = ok(server.cli("deployments", "list", "--workspace", str(pid), "--runs"))
    assert "PROD\u2016" in table and f"waiting for approval: {run_id}" in table

    waited = server.cli("deployments", "wait", run_id, "--timeout", "0.3", "--interval", "0.05")
    assert waited.returncode == 2
    assert waited.stderr.count("is waiting for approval") == 1
    assert "still waiting for approval" in waited.stderr

    decided = json.loads(ok(server.cli("deployments", "approve", run_id)))
    assert decided["DeploymentId"] == document["WaitingDeploymentId"]
    assert decided["Status"] == 1
    assert ok(server.cli("deployments", "wait", run_id)).strip().endswith(": Success")
    again = server.cli("deployments", "approve", run_id)
    assert again.returncode == 1
    assert "No package of pipeline run" in again.stderr and "Status Success" in again.stderr

    # reject: the run ends Termination; wait exits 1 with the reason
    other = create(tea24, pid, new_file(tea, pid), RunMode="Auto")
    wait(tea24, pid, other, lambda r: statuses(r)["PROD"] == "Running")
    ok(server.cli("deployments", "reject", other, "--reason", "not on Fridays"))
    done = server.cli("deployments", "wait", other)
    assert done.returncode == 1
    assert done.stdout.strip() == f"pipeline run {other}: Termination: not on Fridays"
    rows = [json.loads(line) for line in ok(server.cli("audit", "--json")).splitlines()]
    assert any(other in json.dumps(r) and "deployments.reject" in json.dumps(r) for r in rows)
