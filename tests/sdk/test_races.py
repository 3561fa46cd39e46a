"""Races on the package lifecycle (issue 14, A-D), end to end through real servers.

Two API processes (``--no-worker``) and two ``openworks worker`` processes share one
database, as in :mod:`tests.sdk.test_scale_out`: SQLite by default, PostgreSQL when
``OPENWORKS_TEST_POSTGRES`` is set. Verdicts go through the official SDK to both ports at
the same instant; approvals and rejections come from two command-line processes told to go
at once. :mod:`tests.unit.core.test_races` reproduces the same races in one process with
barriers; these tests show them from a client's side:

A  an OK and a FAIL verdict for one check event: exactly one is accepted, and the run's
   result and the package's CheckingStatus agree.
B  verdicts arriving around the check timeout while two workers settle the gates: each
   package is decided once and executed at most once, consistently with its verdict.
C  approve and reject of one package at once: exactly one succeeds, and the package's
   status matches its node's presence in PROD.
D  v1's deploy waits for approval while v2 is committed: DeleteFile is refused
   (``Invalid.File.Busy``); approving v2's deploy before v1's fails v1 as stale, PROD keeps v2.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .clients import CallFailed, TeaClient
from .conftest import DEV_KEY, RunningServer, start_server
from .extension_receiver import Receiver
from .test_checks import Env, wait_for
from .test_scale_out import WorkerProcess, executed_ids, shared_database, start_worker

ROUNDS = 20  # events (A) and packages (C) raced
TIMEOUT = 2.0  # checks.timeout of the workspace in B, seconds
ANSWERED = "Invalid.Extension.AlreadyAnswered"
NOT_AWAITING = "Invalid.Deploy.NotAwaitingApproval"

# A command-line process that has imported the CLI and runs one command per line of stdin
# (JSON argv), so that two of them start a command within a millisecond of each other.
CLI_DRIVER = r"""
import contextlib, io, json, sys
from openworks.cli import main
for line in iter(sys.stdin.readline, ""):
    out, err, rc = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(json.loads(line), prog_name="openworks")
        except SystemExit as exit_:
            rc = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException as exc:
            rc, _ = 2, err.write(repr(exc))
    sys.stdout.write(json.dumps({"rc": rc, "out": out.getvalue(), "err": err.getvalue()}) + "\n")
    sys.stdout.flush()
"""


class CliProcess:
    def __init__(self, server: RunningServer) -> None:
        self.database_url = server.database_url
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLI_DRIVER], env=server.env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip

    def send(self, *args: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps([*args, "--database-url", self.database_url]) + "\n")
        self.process.stdin.flush()

    def result(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the CLI process died"
        return dict(json.loads(line))

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class Cluster(Env):
    """test_checks' Env (its ``server`` and ``tea`` the first API process's) plus the
    other processes of the cluster."""

    apis: list[RunningServer]
    workers: list[WorkerProcess]
    clients: list[TeaClient]

    def silent_extension(self, pid: int) -> str:
        """An extension that acknowledges commit-file events and never answers."""
        return self.extension(pid, "silent", events="commit-file")

    def first_messages(self, pid: int) -> dict[int, dict[str, Any]]:
        """The first webhook message of each file of the workspace, by FileId."""
        with self.receiver.lock:
            found = [d.message for d in self.receiver.deliveries]
        by_file: dict[int, dict[str, Any]] = {}
        for m in found:
            if m["data"]["projectId"] == pid:
                by_file.setdefault(int(m["data"]["fileId"]), m)
        return by_file

    def process_status(self, pid: int, message_id: str) -> str:
        processes = self.tea.call(
            "ListCheckProcesses", ProjectId=pid, EventCode="commit-file", MessageId=message_id
        )["PagingInfo"]["CheckProcesses"]
        assert len(processes) == 1, processes
        return str(processes[0]["Status"])

    def nodes(self, pid: int, env: str = "PROD") -> set[str]:
        data = self.tea.call("ListNodes", ProjectId=pid, ProjectEnv=env, PageSize=100)["Data"]
        return {n["NodeName"] for n in data["Nodes"]}


def all_messages(cluster: Cluster, pid: int, count: int) -> dict[int, dict[str, Any]]:
    """The webhook messages of the workspace's files, once all ``count`` have come."""
    return dict(
        wait_for(lambda: len(found := cluster.first_messages(pid)) == count and found, timeout=20)
    )


def outcome(client: TeaClient, action: str, params: dict[str, Any]) -> str:
    """The word "accepted", or the error code the server answered."""
    try:
        client.call(action, **params)
    except CallFailed as err:
        return err.code
    return "accepted"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp: Path = tmp_path_factory.mktemp("races")
    url = shared_database(tmp)
    apis = [start_server(tmp, args=("--no-worker",), database_url=url) for _ in range(2)]
    workers: list[WorkerProcess] = []
    receiver = Receiver(apis[0].endpoint).start()
    try:
        workers = [start_worker(tmp, url, apis[0].env, str(n)) for n in range(2)]
        clients = [TeaClient(api.endpoint, *DEV_KEY) for api in apis]
        yield Cluster(apis[0], receiver, clients[0], apis, workers, clients)
    finally:
        receiver.stop()
        for w in workers:
            w.stop()
        for api in apis:
            api.stop()
    assert not receiver.errors, receiver.errors


# -- A: an OK and a FAIL verdict for one event at the same instant ------------------------


def test_a_two_verdicts_at_once_exactly_one_is_accepted(cluster: Cluster) -> None:
    pid = cluster.workspace()
    code = cluster.silent_extension(pid)
    fids = [cluster.file(pid, f"SELECT {n};") for n in range(ROUNDS)]
    deps = {fid: cluster.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"] for fid in fids}
    messages = all_messages(cluster, pid, ROUNDS)
    barrier = threading.Barrier(2)
    results: dict[str, list[str]] = {"OK": [], "FAIL": []}

    def answer(verdict: str, side: int) -> None:
        for n, fid in enumerate(fids):
            client = cluster.clients[(side + n) % 2]  # each verdict goes to both ports in turn
            params = {"MessageId": messages[fid]["id"], "ExtensionCode": code,
                      "CheckResult": verdict, "CheckResultTip": verdict}  # fmt: skip
            barrier.wait(30)
            results[verdict].append(outcome(client, "UpdateIDEEventResult", params))

    threads = [threading.Thread(target=answer, args=(v, s)) for s, v in enumerate(("OK", "FAIL"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    both, wrong, disagree = [], [], []
    for n, fid in enumerate(fids):
        pair = {v: results[v][n] for v in ("OK", "FAIL")}
        accepted = [v for v, r in pair.items() if r == "accepted"]
        if len(accepted) != 1:
            both.append((fid, pair))
        elif set(pair.values()) != {"accepted", ANSWERED}:
            wrong.append((fid, pair))
        package = cluster.final(pid, deps[fid])["Deployment"]
        process = cluster.process_status(pid, messages[fid]["id"])
        state = (package["Status"], package.get("CheckingStatus"), process)
        # on DEV a failed check still commits the file; the verdict shows in CheckingStatus
        expected = {"OK": (1, None, "PASSED"), "FAIL": (1, 7, "BLOCKED")}
        if state != expected.get(accepted[0] if len(accepted) == 1 else "", state) or (
            state not in expected.values()
        ):
            disagree.append((fid, pair, state))
    summary = (
        f"{len(both)} of {ROUNDS} events took both verdicts or none, e.g. {both[:3]}; "
        f"{len(wrong)} refused with another code, e.g. {wrong[:3]}; {len(disagree)} with run "
        f"and package disagreeing (Status, CheckingStatus, process), e.g. {disagree[:3]}"
    )
    assert not both and not wrong and not disagree, summary


# -- B: verdicts near the check timeout, two workers settling the gates -------------------


def test_b_verdicts_near_the_timeout_decide_each_package_once(cluster: Cluster) -> None:
    # a standard workspace (commits go to DEV, where a failed check still executes the
    # package) and a basic one (commits go to PROD, where a failed check blocks it), with
    # every deadline at about the same moment so that both workers settle gates at once
    spaces = {mode: cluster.workspace(mode=mode, checks_timeout=f"{TIMEOUT:g}") for mode in (3, 2)}
    codes = {mode: cluster.silent_extension(pid) for mode, pid in spaces.items()}
    files = [(mode, cluster.file(pid, f"SELECT {n};")) for mode, pid in spaces.items()
             for n in range(ROUNDS)]  # fmt: skip
    names = {
        fid: cluster.tea.call("GetFile", ProjectId=spaces[mode], FileId=fid)["Data"]["File"][
            "FileName"
        ]
        for mode, fid in files
    }
    deps: dict[int, int] = {}
    sent: dict[int, float] = {}
    for mode, fid in files:
        sent[fid] = time.monotonic()
        deps[fid] = cluster.tea.call("SubmitFile", ProjectId=spaces[mode], FileId=fid)["Data"]
    messages = {mode: all_messages(cluster, pid, ROUNDS) for mode, pid in spaces.items()}
    verdicts: dict[int, str] = {}

    def answer(n: int, mode: int, fid: int) -> None:
        # from 50 ms before to 300 ms after the deadline as the client sees it (the workers
        # look for due gates every 200 ms each)
        at = sent[fid] + TIMEOUT - 0.05 + 0.35 * (n % ROUNDS) / (ROUNDS - 1)
        time.sleep(max(0.0, at - time.monotonic()))
        params = {"MessageId": messages[mode][fid]["id"], "ExtensionCode": codes[mode],
                  "CheckResult": "OK", "CheckResultTip": "late but fine"}  # fmt: skip
        verdicts[fid] = outcome(cluster.clients[n % 2], "UpdateIDEEventResult", params)

    threads = [threading.Thread(target=answer, args=(n, *f)) for n, f in enumerate(files)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    finals = {fid: cluster.final(spaces[mode], deps[fid]) for mode, fid in files}
    time.sleep(1.0)  # let a second (wrong) settling or execution show, if any
    nodes = {
        mode: cluster.nodes(pid, "DEV" if mode == 3 else "PROD") for mode, pid in spaces.items()
    }
    counts = executed_ids(*cluster.workers)
    expected = {  # (Status, CheckingStatus, process, node there, executions)
        (3, "accepted"): (1, None, "PASSED", True, 1),  # the verdict counted
        (3, ANSWERED): (1, 7, "BLOCKED", True, 1),  # the timeout came first: DEV runs it
        (2, "accepted"): (1, None, "PASSED", True, 1),
        (2, ANSWERED): (2, 7, "BLOCKED", False, 0),  # PROD: blocked, not executed
    }
    problems = []
    for mode, fid in files:
        pid = spaces[mode]
        data = cluster.deployment(pid, deps[fid])
        package = data["Deployment"]
        process = cluster.process_status(pid, messages[mode][fid]["id"])
        there = names[fid] in nodes[mode]
        state = (
            package["Status"],
            package.get("CheckingStatus"),
            process,
            there,
            counts[deps[fid]],
        )
        if state != expected.get((mode, verdicts[fid])) or data != finals[fid]:
            problems.append((mode, verdicts[fid], state, data != finals[fid]))
    accepted = sum(v == "accepted" for v in verdicts.values())
    assert not problems, (
        f"{len(problems)} of {len(files)} inconsistent (mode, verdict, (Status, CheckingStatus, "
        f"process, node there, executions), changed after final), e.g. {problems[:3]}"
    )
    assert 0 < accepted < len(files), verdicts  # both sides of the deadline were hit


# -- C: approve and reject of one package at once ------------------------------------------


def _awaiting_approval(cluster: Cluster, pid: int, content: str) -> tuple[int, int]:
    fid = cluster.file(pid, content)
    submit = cluster.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    assert cluster.final(pid, submit)["Deployment"]["Status"] == 1  # DEV needs no approval
    return fid, cluster.tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"]


def test_c_approve_and_reject_at_once_exactly_one_succeeds(cluster: Cluster) -> None:
    pid = cluster.workspace(approval_required="true")
    waiting = [_awaiting_approval(cluster, pid, f"SELECT {n};") for n in range(ROUNDS)]
    names = {
        fid: cluster.tea.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]["FileName"]
        for fid, _ in waiting
    }
    for _, dep in waiting:
        assert cluster.deployment(pid, dep)["Deployment"]["Status"] == 0  # waits for a reviewer
    reviewers = [CliProcess(cluster.apis[0]), CliProcess(cluster.apis[1])]
    decisions: list[tuple[dict[str, Any], dict[str, Any]]] = []
    try:
        for n, (_, dep) in enumerate(waiting):
            first, second = reviewers[n % 2], reviewers[(n + 1) % 2]
            first.send("deployments", "approve", str(dep))
            second.send("deployments", "reject", str(dep), "--reason", "not now")
            decisions.append((first.result(), second.result()))
    finally:
        for r in reviewers:
            r.stop()
    prod = cluster.nodes(pid)
    problems = []
    for (fid, dep), (approve, reject) in zip(waiting, decisions, strict=True):
        succeeded = [r for r in (approve, reject) if r["rc"] == 0]
        refused = [r for r in (approve, reject) if r["rc"] != 0]
        status = cluster.deployment(pid, dep)["Deployment"]["Status"]
        expected = 1 if approve["rc"] == 0 else 6
        if (
            len(succeeded) != 1
            or NOT_AWAITING not in refused[0]["err"]
            or status != expected
            or (names[fid] in prod) != (status == 1)
        ):
            problems.append((dep, approve["rc"], reject["rc"], status, names[fid] in prod))
    both = sum(a["rc"] == 0 and r["rc"] == 0 for a, r in decisions)
    assert not problems, (
        f"{len(problems)} of {ROUNDS} wrong, {both} with both succeeding (package, approve rc, "
        f"reject rc, Status, node in PROD), e.g. {problems[:3]}"
    )


# -- D: stale packages of one file ----------------------------------------------------------


def _two_versions_committed(cluster: Cluster) -> tuple[int, int, int]:
    """v1's deploy waits for approval while v2 is committed."""
    pid = cluster.workspace(approval_required="true")
    fid, first = _awaiting_approval(cluster, pid, "SELECT 1;")
    cluster.tea.call("UpdateFile", ProjectId=pid, FileId=fid, Content="SELECT 2;")
    submit = cluster.clients[1].call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    assert cluster.final(pid, submit)["Deployment"]["Status"] == 1
    return pid, fid, first


def test_d_delete_refused_while_an_older_version_waits_for_approval(cluster: Cluster) -> None:
    pid, fid, _ = _two_versions_committed(cluster)
    with pytest.raises(CallFailed) as refused:
        cluster.clients[1].call("DeleteFile", ProjectId=pid, FileId=fid)
    assert refused.value.code == "Invalid.File.Busy", refused.value


def test_d_older_package_approved_after_the_newer_fails_as_stale(cluster: Cluster) -> None:
    pid, fid, first = _two_versions_committed(cluster)
    second = cluster.tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"]
    assert json.loads(cluster.cli("deployments", "approve", str(second)))["Status"] == 1
    cluster.apis[1].cli("deployments", "approve", str(first))  # refused or failed: see below
    stale = cluster.deployment(pid, first)
    assert stale["Deployment"]["Status"] == 2, f"v1's package after v2's: {stale}"
    assert "stale" in (stale["Deployment"]["ErrorMessage"] or "")
    assert [i["Status"] for i in stale["DeployedItems"]] == [4]
    node_id = cluster.tea.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]["NodeId"]
    node = cluster.tea.call("GetNode", NodeId=node_id, ProjectEnv="PROD")["Data"]
    assert node["FileVersion"] == 2
    code = cluster.tea.call("GetNodeCode", NodeId=node_id, ProjectEnv="PROD")["Data"]
    assert code == "SELECT 2;"
    versions = cluster.tea.call("ListFileVersions", ProjectId=pid, FileId=fid)["Data"]
    current = {v["FileVersion"]: v["IsCurrentProd"] for v in versions["FileVersions"]}
    assert current == {1: False, 2: True}
