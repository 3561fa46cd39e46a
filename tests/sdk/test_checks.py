"""Pre-deployment checks, extensions and approvals, end to end through the official SDKs.

A real extension (``extension_receiver``) receives the signed webhooks, reads the event with
GetIDEEventDetail and answers; workspace settings, extensions and reviews go through the
``openworks`` command line against the same database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .clients import CallFailed, LegacyClient, TeaClient, make_client
from .conftest import DEV_KEY, RunningServer, free_port, start_server, unique
from .extension_receiver import SECRET, Receiver

ROOT = "1000000000000001"


@dataclass
class Env:
    server: RunningServer
    receiver: Receiver
    tea: TeaClient

    def cli(self, *args: str) -> str:
        done = self.server.cli(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def workspace(self, mode: int = 3, **settings: str) -> int:
        pid = int(
            self.tea.call(
                "CreateProject", ProjectIdentifier=unique("ws"), ProjectName="checks",
                ProjectMode=mode,
            )["Data"]
        )  # fmt: skip
        if settings:
            pairs = [f"{k.replace('_', '.', 1)}={v}" for k, v in settings.items()]
            self.cli("workspace", "set", str(pid), *pairs)
        return pid

    def extension(self, pid: int, mode: str, events: str = "commit-file,deploy-file") -> str:
        code = unique("ext")
        self.cli(
            "extensions", "add", code, "--name", f"{mode} checker", "--events", events,
            "--url", self.receiver.url(mode, code), "--secret", SECRET, "--workspace", str(pid),
        )  # fmt: skip
        return code

    def file(self, pid: int, content: str, **fields: Any) -> int:
        return int(
            self.tea.call(
                "CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10, Content=content,
                **fields,
            )["Data"]
        )  # fmt: skip

    def deployment(self, pid: int, dep: int) -> dict[str, Any]:
        return dict(self.tea.call("GetDeployment", ProjectId=pid, DeploymentId=dep)["Data"])

    def final(self, pid: int, dep: int, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            data = self.deployment(pid, dep)
            if data["Deployment"]["Status"] != 0 or time.monotonic() > deadline:
                return data
            time.sleep(0.05)

    def messages(self, pid: int, file_id: int) -> list[dict[str, Any]]:
        with self.receiver.lock:
            found = [d.message for d in self.receiver.deliveries]
        return [
            m for m in found if m["data"]["projectId"] == pid and m["data"]["fileId"] == file_id
        ]


def call(client: TeaClient | LegacyClient, action: str, **params: Any) -> dict[str, Any]:
    """``client.call``; the legacy request classes of CallbackExtension and
    ListCheckProcesses pin HTTPS, and this server speaks plain HTTP, so those are switched
    back as a user would."""
    if not isinstance(client, LegacyClient):
        return client.call(action, **params)
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    request = client.request(action, **params)
    request.set_protocol_type("http")
    try:
        return dict(json.loads(client.sdk.do_action_with_exception(request)))
    except ServerException as err:
        raise CallFailed(
            err.get_error_code(), err.get_http_status(), err.get_error_msg(), err.get_request_id()
        ) from err


def wait_for(condition: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    server = start_server(tmp_path_factory.mktemp("checks"))
    receiver = Receiver(server.endpoint).start()
    yield Env(server, receiver, TeaClient(server.endpoint, *DEV_KEY))
    receiver.stop()
    server.stop()
    assert not receiver.errors, receiver.errors


# -- extensions --------------------------------------------------------------------------


def test_passing_extension_lets_commit_and_deploy_through(env: Env) -> None:
    pid = env.workspace()
    code = env.extension(pid, "maxpt")
    fid = env.file(pid, "SELECT 1;")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    data = env.final(pid, submit)
    assert data["Deployment"]["Status"] == 1
    assert data["Deployment"].get("CheckingStatus") is None
    [message] = env.messages(pid, fid)
    assert message["type"] == "dataworks:FileChange:CommitFile"
    assert message["source"] == "acs.dataworks" and message["specversion"] == "1.0"
    assert message["data"]["eventCode"] == "commit-file" and message["data"]["changeType"] == "0"
    assert message["data"]["fileVersion"] == 1 and message["data"]["operator"] == ROOT
    delivery = env.receiver.for_message(message["id"])[0]
    assert delivery.signature_ok and delivery.headers["X-Openworks-Event"] == message["type"]

    processes = env.tea.call(
        "ListCheckProcesses", ProjectId=pid, EventCode="commit-file", MessageId=message["id"]
    )["PagingInfo"]
    assert processes["TotalCount"] == 1
    process = processes["CheckProcesses"][0]
    assert (
        process["Status"] == "PASSED" and process["ProcessId"] == message["data"]["extensionBizId"]
    )

    deploy = env.tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"]
    assert env.final(pid, deploy)["Deployment"]["Status"] == 1
    deploy_messages = [m for m in env.messages(pid, fid) if m["data"]["eventCode"] == "deploy-file"]
    assert len(deploy_messages) == 1 and deploy_messages[0]["id"] != message["id"]
    # the receiver notes its answer after the SDK call returns, so it may lag a moment
    wait_for(lambda: (deploy_messages[0]["id"], "OK") in env.receiver.answers)

    listed = env.tea.call("GetExtension", ExtensionCode=code)["Extension"]
    assert listed["ExtensionCode"] == code
    assert [e["EventCode"] for e in listed["BindEventList"]] == ["commit-file", "deploy-file"]


def test_failing_extension_commits_but_blocks_the_deploy(env: Env) -> None:
    pid = env.workspace()
    code = env.extension(pid, "maxpt")
    fid = env.file(pid, "SELECT * FROM t WHERE ds = MAX_PT('t');")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    data = env.final(pid, submit)
    assert data["Deployment"]["Status"] == 1 and data["Deployment"]["CheckingStatus"] == 7
    with pytest.raises(CallFailed) as refused:
        env.tea.call("DeployFile", ProjectId=pid, FileId=fid)
    assert refused.value.status == 400 and refused.value.code == "Invalid.Deploy.CheckFailed"
    assert code in refused.value.message and "MAX_PT is not allowed" in refused.value.message
    blocked = env.tea.call(
        "ListCheckProcesses", ProjectId=pid, EventCode="commit-file", Status="BLOCKED"
    )
    assert blocked["PagingInfo"]["TotalCount"] == 1

    # fixing the code and committing again makes it deployable
    env.tea.call("UpdateFile", ProjectId=pid, FileId=fid, Content="SELECT 1;")
    again = env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    assert env.final(pid, again)["Deployment"].get("CheckingStatus") is None
    deploy = env.tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"]
    assert env.final(pid, deploy)["Deployment"]["Status"] == 1


def test_fail_on_a_production_package_blocks_it(env: Env) -> None:
    pid = env.workspace(mode=2)  # basic: a commit goes straight to production
    code = env.extension(pid, "maxpt")
    fid = env.file(pid, "SELECT MAX_PT('t');")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    data = env.final(pid, submit)
    dep = data["Deployment"]
    assert (dep["Status"], dep["CheckingStatus"], dep["ToEnvironment"]) == (2, 7, 2)
    assert code in dep["ErrorMessage"] and data["DeployedItems"][0]["Status"] == 2
    file = env.tea.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]
    assert file["CommitStatus"] == 0  # the commit did not happen


def test_warn_passes_with_empty_checking_status(env: Env) -> None:
    pid = env.workspace()
    env.extension(pid, "warn")
    fid = env.file(pid, "SELECT 1;")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    data = env.final(pid, submit)
    assert data["Deployment"]["Status"] == 1 and data["Deployment"].get("CheckingStatus") is None
    [message] = env.messages(pid, fid)
    wait_for(lambda: (message["id"], "WARN") in env.receiver.answers)


def test_unanswered_check_times_out_as_fail(env: Env) -> None:
    pid = env.workspace(checks_timeout="1.5")
    code = env.extension(pid, "silent")
    fid = env.file(pid, "SELECT 1;")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    pending = env.deployment(pid, submit)["Deployment"]
    assert (pending["Status"], pending["CheckingStatus"]) == (0, 8)
    with pytest.raises(CallFailed) as early:
        env.tea.call("DeployFile", ProjectId=pid, FileId=fid)
    assert early.value.code == "Invalid.Deploy.CheckPending" and code in early.value.message

    data = env.final(pid, submit)
    assert data["Deployment"]["Status"] == 1 and data["Deployment"]["CheckingStatus"] == 7
    with pytest.raises(CallFailed) as late:
        env.tea.call("DeployFile", ProjectId=pid, FileId=fid)
    assert late.value.code == "Invalid.Deploy.CheckFailed"
    assert "no answer within the workspace's check timeout of 1.5 s" in late.value.message

    # an answer after the deadline is refused, not silently applied
    [message] = env.messages(pid, fid)
    with pytest.raises(CallFailed) as closed:
        env.tea.call(
            "UpdateIDEEventResult", MessageId=message["id"], ExtensionCode=code, CheckResult="OK"
        )
    assert closed.value.code == "Invalid.Extension.AlreadyAnswered"


def test_skip_all_deploy_file_extensions_skips_checks(env: Env) -> None:
    pid = env.workspace(checks_builtin="forbid-pattern(MAX_PT)")
    env.extension(pid, "silent")
    fid = env.file(pid, "SELECT MAX_PT('t');")
    submit = env.tea.call(
        "SubmitFile", ProjectId=pid, FileId=fid, SkipAllDeployFileExtensions=True
    )["Data"]
    data = env.final(pid, submit)
    assert data["Deployment"]["Status"] == 1 and data["Deployment"].get("CheckingStatus") is None
    time.sleep(0.5)
    assert env.messages(pid, fid) == []


def test_delivery_is_retried_until_the_receiver_is_back(env: Env, tmp_path: Path) -> None:
    port = free_port()
    late = Receiver(env.server.endpoint, port=port)
    pid = env.workspace()
    code = unique("ext")
    env.cli(
        "extensions", "add", code, "--name", "late", "--events", "commit-file",
        "--url", late.url("maxpt", code), "--secret", SECRET, "--workspace", str(pid),
    )  # fmt: skip
    fid = env.file(pid, "SELECT 1;")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    time.sleep(1.5)  # several attempts fail: nothing listens on the port
    assert env.deployment(pid, submit)["Deployment"]["CheckingStatus"] == 8
    late.start()
    try:
        data = env.final(pid, submit)
        assert data["Deployment"]["Status"] == 1
        assert data["Deployment"].get("CheckingStatus") is None
        assert len(late.deliveries) == 1 and late.deliveries[0].signature_ok
        wait_for(lambda: late.answers)
        assert len(late.answers) == 1 and late.answers[0][1] == "OK" and not late.errors
        listed = env.tea.call("ListDeployments", ProjectId=pid, PageSize=100)["Data"]
        assert listed["TotalCount"] == 1  # no duplicated package
    finally:
        late.stop()


@pytest.mark.parametrize("dialect", ["tea-v2", "legacy"])
def test_legacy_check_file_deployment_answers_by_checker_instance(env: Env, dialect: str) -> None:
    client = make_client(dialect, env.server.endpoint, *DEV_KEY)
    pid = env.workspace()
    env.extension(pid, "silent")
    fid = env.file(pid, "SELECT 1;")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    [message] = wait_for(lambda: env.messages(pid, fid))
    client.call(
        "CheckFileDeployment", CheckerInstanceId=message["data"]["checkerInstanceId"], Status="OK"
    )
    assert env.final(pid, submit)["Deployment"].get("CheckingStatus") is None
    with pytest.raises(CallFailed) as unknown:
        client.call("CheckFileDeployment", CheckerInstanceId="ci-nope", Status="OK")
    assert (unknown.value.status, unknown.value.code) == (404, "InvalidCheckerInstance.NotFound")


@pytest.mark.parametrize("dialect", ["tea", "tea-v2", "legacy"])
def test_extension_reads_and_bad_answers(env: Env, dialect: str) -> None:
    client: TeaClient | LegacyClient = make_client(dialect, env.server.endpoint, *DEV_KEY)
    pid = env.workspace()
    code = env.extension(pid, "silent", events="commit-file,delete-file")
    fid = env.file(pid, "SELECT 42;", FileDescription="answer")
    env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)
    [message] = wait_for(lambda: env.messages(pid, fid))
    detail = client.call("GetIDEEventDetail", MessageId=message["id"], ProjectId=pid)
    committed = detail["EventDetail"]["CommittedFile"]
    assert committed["Content"] == "SELECT 42;" and committed["FileId"] == fid
    assert committed["ChangeType"] == "CREATE" and committed["Committor"] == ROOT

    listed = client.call("ListExtensions", PageSize=100)["PagingInfo"]
    assert code in [e["ExtensionCode"] for e in listed["Extensions"]]
    checking = call(
        client, "ListCheckProcesses", ProjectId=pid, EventCode="commit-file", Status="CHECKING"
    )
    assert checking["PagingInfo"]["CheckProcesses"][0]["MessageId"] == message["id"]

    with pytest.raises(CallFailed) as bad:
        call(
            client,
            "CallbackExtension",
            ExtensionCode=code,
            MessageId=message["id"],
            CheckResult="MAYBE",
        )
    assert bad.value.status == 400
    with pytest.raises(CallFailed) as missing:
        client.call("UpdateIDEEventResult", MessageId="no-such-message", CheckResult="OK")
    assert (missing.value.status, missing.value.code) == (404, "InvalidMessage.NotFound")
    with pytest.raises(CallFailed) as unknown:
        client.call("GetExtension", ExtensionCode="no-such-extension")
    assert (unknown.value.status, unknown.value.code) == (404, "InvalidExtension.NotFound")
    with pytest.raises(CallFailed) as unbound:  # a real message, an extension not asked
        call(
            client,
            "CallbackExtension",
            ExtensionCode="no-such-extension",
            MessageId=message["id"],
            CheckResult="OK",
        )
    assert (unbound.value.status, unbound.value.code) == (404, "InvalidExtension.NotFound")
    assert "was not asked to check message" in unbound.value.message
    call(client, "CallbackExtension", ExtensionCode=code, MessageId=message["id"], CheckResult="OK")
    call(client, "CallbackExtension", ExtensionCode=code, MessageId=message["id"], CheckResult="OK")


# -- built-in checks ---------------------------------------------------------------------


def test_builtin_checks_block_bad_sql_and_drop_table_in_production(env: Env) -> None:
    pid = env.workspace(checks_builtin="sql-syntax, forbid-drop-table, forbid-pattern(MAX_PT)@warn")
    bad = env.file(pid, "SELECT FROM WHERE (;")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=bad)["Data"]
    assert env.final(pid, submit)["Deployment"]["CheckingStatus"] == 7
    with pytest.raises(CallFailed) as refused:
        env.tea.call("DeployFile", ProjectId=pid, FileId=bad)
    assert "sql-syntax" in refused.value.message and "SQL syntax error" in refused.value.message

    warned = env.file(pid, "SELECT MAX_PT('t');")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=warned)["Data"]
    assert env.final(pid, submit)["Deployment"].get("CheckingStatus") is None

    dropper = env.file(pid, "DROP TABLE IF EXISTS t;")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=dropper)["Data"]
    assert env.final(pid, submit)["Deployment"].get("CheckingStatus") is None  # DEV is fine
    deploy = env.tea.call("DeployFile", ProjectId=pid, FileId=dropper)["Data"]
    data = env.final(pid, deploy)
    assert (data["Deployment"]["Status"], data["Deployment"]["CheckingStatus"]) == (2, 7)
    assert "forbid-drop-table" in data["Deployment"]["ErrorMessage"]
    assert data["DeployedItems"][0]["Status"] == 4


def test_workspace_settings_cli(env: Env) -> None:
    pid = env.workspace()
    shown = json.loads(env.cli("workspace", "show", str(pid)))
    assert shown == {"approval.required": "false", "checks.builtin": "", "checks.timeout": "600"}
    out = json.loads(
        env.cli("workspace", "set", str(pid), "checks.timeout=30", "approval.required=yes")
    )
    assert out["checks.timeout"] == "30" and out["approval.required"] == "true"
    refused = env.server.cli("workspace", "set", str(pid), "checks.builtin=nope")
    assert refused.returncode == 1 and "unknown check 'nope'" in refused.stderr
    assert json.loads(env.cli("workspace", "show", str(pid)))["checks.builtin"] == ""


# -- approvals ---------------------------------------------------------------------------


def _awaiting_approval(env: Env) -> tuple[int, int, int]:
    pid = env.workspace(approval_required="true")
    fid = env.file(pid, "SELECT 1;")
    submit = env.tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    assert env.final(pid, submit)["Deployment"]["Status"] == 1  # DEV needs no approval
    deploy = env.tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"]
    time.sleep(1.0)
    assert env.deployment(pid, deploy)["Deployment"]["Status"] == 0  # waits for a reviewer
    return pid, fid, deploy


def test_approval_executes_the_package_and_records_the_approver(env: Env) -> None:
    pid, fid, deploy = _awaiting_approval(env)
    out = json.loads(env.cli("deployments", "approve", str(deploy)))
    assert out["Status"] == 1 and out["HandlerId"] == ROOT
    data = env.deployment(pid, deploy)
    assert data["Deployment"]["Status"] == 1 and data["Deployment"]["HandlerId"] == ROOT
    again = env.server.cli("deployments", "approve", str(deploy))
    assert again.returncode == 1 and "already been deployed" in again.stderr
    versions = env.tea.call("ListFileVersions", ProjectId=pid, FileId=fid)["Data"]["FileVersions"]
    assert versions[0]["IsCurrentProd"] is True


def test_rejection_sets_status_6_with_the_reason(env: Env) -> None:
    pid, fid, deploy = _awaiting_approval(env)
    out = json.loads(env.cli("deployments", "reject", str(deploy), "--reason", "not on Fridays"))
    assert out["Status"] == 6
    data = env.deployment(pid, deploy)
    assert data["Deployment"]["Status"] == 6
    assert data["Deployment"]["ErrorMessage"] == "not on Fridays"
    assert data["DeployedItems"][0]["Status"] == 6
    rejected = env.tea.call("ListDeployments", ProjectId=pid, Status=6)["Data"]
    assert [d["Id"] for d in rejected["Deployments"]] == [deploy]
    # the version may be proposed again
    second = env.tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"]
    assert second != deploy and env.deployment(pid, second)["Deployment"]["Status"] == 0


def test_reviewer_needs_a_reviewing_role(env: Env) -> None:
    pid, _fid, deploy = _awaiting_approval(env)
    name = unique("dev")
    created = env.server.cli("users", "create", name)
    assert created.returncode == 0, created.stderr
    refused = env.server.cli("deployments", "approve", str(deploy), "--user", name)
    assert refused.returncode == 1 and "owner, admin or deploy role" in refused.stderr
    assert env.deployment(pid, deploy)["Deployment"]["Status"] == 0
