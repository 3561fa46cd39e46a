"""Not-found answers agree with docs/behaviour.md ("Not found"): a missing object is HTTP 404
with a code ending in ``.NotFound``, through each official SDK; the two documented
exceptions keep their 400; and every not-found code the source can raise is in the doc."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .clients import CallFailed, LegacyClient, TeaClient
from .test_checks import call  # the legacy CallbackExtension class pins HTTPS

ROOT = Path(__file__).resolve().parents[2]
MISSING_ID = 999_999_999
MISSING_FOLDER = "f" * 32

# action -> (parameters with {pid} for the workspace, the code DataWorks clients will see)
MISSING: dict[str, tuple[dict[str, Any], str]] = {
    "GetFile": ({"FileId": MISSING_ID}, "InvalidFile.NotFound"),
    "GetFileVersion": ({"FileId": MISSING_ID, "FileVersion": 1}, "InvalidFile.NotFound"),
    "DeleteFile": ({"FileId": MISSING_ID}, "InvalidFile.NotFound"),
    "GetDeployment": ({"DeploymentId": MISSING_ID}, "InvalidDeployment.NotFound"),
    "GetFolder": ({"FolderId": MISSING_FOLDER}, "InvalidFolder.NotFound"),
    "GetBusiness": ({"BusinessId": MISSING_ID}, "InvalidBusiness.NotFound"),
    "GetNode": ({"NodeId": MISSING_ID, "ProjectEnv": "DEV"}, "InvalidNode.NotFound"),
    "GetExtension": ({"ExtensionCode": "no-such-extension"}, "InvalidExtension.NotFound"),
    "GetIDEEventDetail": ({"MessageId": "no-such-message"}, "InvalidMessage.NotFound"),
    "UpdateIDEEventResult": (
        {"MessageId": "no-such-message", "CheckResult": "OK"},
        "InvalidMessage.NotFound",
    ),
    "CallbackExtension": (
        {"ExtensionCode": "no-such-extension", "MessageId": "no-such-message", "CheckResult": "OK"},
        "InvalidMessage.NotFound",
    ),
    "CheckFileDeployment": (
        {"CheckerInstanceId": "no-such-checker", "Status": "OK"},
        "InvalidCheckerInstance.NotFound",
    ),
}
# Operations whose request has no workspace parameter.
NO_WORKSPACE = {
    "GetNode", "GetExtension", "UpdateIDEEventResult", "CallbackExtension", "CheckFileDeployment"
}  # fmt: skip


def _fails(client: TeaClient | LegacyClient, action: str, **params: Any) -> CallFailed:
    with pytest.raises(CallFailed) as failed:
        call(client, action, **params)
    return failed.value


def test_every_missing_object_is_404_with_a_not_found_code(
    client: TeaClient | LegacyClient, new_project: Callable[..., int]
) -> None:
    pid = new_project()
    seen = {}
    for action, (params, _code) in MISSING.items():
        where = {} if action in NO_WORKSPACE else {"ProjectId": pid}
        err = _fails(client, action, **where, **params)
        seen[action] = (err.status, err.code)
    assert seen == {action: (404, code) for action, (_params, code) in MISSING.items()}


def test_a_missing_version_of_a_file_is_its_own_not_found(
    client: TeaClient | LegacyClient, new_project: Callable[..., int]
) -> None:
    pid = new_project()
    fid = client.call("CreateFile", ProjectId=pid, FileName="v", FileType=10, Content="SELECT 1;")
    err = _fails(client, "GetFileVersion", ProjectId=pid, FileId=int(fid["Data"]), FileVersion=7)
    assert (err.status, err.code) == (404, "InvalidFileVersion.NotFound")


def test_documented_exceptions_keep_400(
    client: TeaClient | LegacyClient, new_project: Callable[..., int]
) -> None:
    err = _fails(client, "GetProject", ProjectId=MISSING_ID)
    assert (err.status, err.code) == (400, "Invalid.Tenant.ProjectNotExists")
    pid = new_project()
    err = _fails(
        client, "CreateFile", ProjectId=pid, FileName="f", FileType=10, Content="SELECT 1;",
        FileFolderPath="Business Flow/nowhere/MaxCompute/missing",
    )  # fmt: skip
    assert (err.status, err.code) == (400, "Invalid.Folder.NotExists")


def _raised_codes(kind: str) -> set[str]:
    """Literal codes of every ``kind(code, ...)`` constructed under src/openworks."""
    codes = set()
    for path in (ROOT / "src" / "openworks").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == kind
                and node.args
            ):
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path}: {kind} with a computed code"
                codes.add(str(first.value))
    return codes


def test_not_found_codes_in_the_source_are_the_documented_ones() -> None:
    not_found = _raised_codes("NotFound")
    assert not_found, "no NotFound found in the source"
    # ours end in .NotFound; DataWorks' own numeric codes are kept where it has one
    assert all(code.endswith(".NotFound") or code.isdigit() for code in not_found), not_found
    assert not any(code.endswith(".NotFound") for code in _raised_codes("Invalid"))
    behaviour = (ROOT / "docs" / "behaviour.md").read_text(encoding="utf-8")
    section = behaviour.split("- **Not found.**", 1)[1].split("\n- **", 1)[0]
    documented = set(re.findall(r"`(Invalid\w*\.NotFound|\d{10,})`", section))
    assert not_found <= documented, not_found - documented
    assert set(code for _params, code in MISSING.values()) <= documented
