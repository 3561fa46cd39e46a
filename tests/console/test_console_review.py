"""Approving and rejecting production packages in a browser, and who may."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.sdk.clients import TeaClient
from tests.sdk.conftest import DEV_KEY, RunningServer, unique

from .conftest import Shot, cli, finished, new_file, new_workspace, sign_in_with_key


@dataclass(frozen=True)
class Workspace:
    """A workspace whose production packages wait for approval, with two more members."""

    id: int
    visitor: dict[str, str]
    deployer: dict[str, str]


def _member(server: RunningServer, tea: TeaClient, pid: int, role: str) -> dict[str, str]:
    user: dict[str, str] = json.loads(cli(server, "users", "create", unique(role)))
    tea.call("CreateProjectMember", ProjectId=pid, UserId=user["UserId"], RoleCode=role)
    return user


@pytest.fixture(scope="module")
def workspace(console_server: RunningServer) -> Workspace:
    tea = TeaClient(console_server.endpoint, *DEV_KEY)
    pid = new_workspace(tea)
    cli(console_server, "workspace", "set", str(pid), "approval.required=true")
    visitor = _member(console_server, tea, pid, "role_project_guest")
    deployer = _member(console_server, tea, pid, "role_project_deploy")
    return Workspace(pid, visitor, deployer)


def _waiting_package(tea: TeaClient, pid: int) -> int:
    """A new production package of the workspace, waiting for approval."""
    fid = new_file(tea, pid, "INSERT OVERWRITE TABLE dws_sales SELECT * FROM ods_orders;")
    committed = finished(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])
    assert committed["Status"] == 1
    package_id = int(tea.call("DeployFile", ProjectId=pid, FileId=fid, Comment="ship")["Data"])
    deployment = tea.call("GetDeployment", ProjectId=pid, DeploymentId=package_id)["Data"]
    assert deployment["Deployment"]["Status"] == 0  # held for approval
    return package_id


def _csrf(page: Any) -> str:
    token = page.locator("form[action='/console/logout'] input[name=csrf]").get_attribute("value")
    assert token
    return str(token)


def test_visitor_sees_no_review_buttons_and_is_refused_when_posting(
    page: Any, workspace: Workspace, tea: TeaClient
) -> None:
    pid, visitor = workspace.id, workspace.visitor
    package_id = _waiting_package(tea, pid)
    url = f"/console/w/{pid}/deployments/{package_id}"
    sign_in_with_key(page, visitor["AccessKeyId"], visitor["AccessKeySecret"], target=url)
    page.wait_for_url(f"**{url}")
    assert "Ready (0)" in page.inner_text("#pkg-status")
    assert "waits for approval" in page.inner_text("#review-note")
    assert page.get_by_role("button", name="Approve").count() == 0
    assert page.get_by_role("button", name="Reject").count() == 0

    token = _csrf(page)
    approve = page.request.post(url + "/approve", form={"csrf": token})
    assert approve.status == 403 and "Forbidden.Deploy.NotReviewer" in approve.text()
    reject = page.request.post(url + "/reject", form={"csrf": token, "reason": "no"})
    assert reject.status == 403 and "Forbidden.Deploy.NotReviewer" in reject.text()
    deployment = tea.call("GetDeployment", ProjectId=pid, DeploymentId=package_id)["Data"]
    assert deployment["Deployment"]["Status"] == 0  # untouched


def test_deployer_approves_in_the_browser(
    page: Any, workspace: Workspace, tea: TeaClient, shot: Shot
) -> None:
    pid, deployer = workspace.id, workspace.deployer
    package_id = _waiting_package(tea, pid)
    url = f"/console/w/{pid}/deployments/{package_id}"
    sign_in_with_key(page, deployer["AccessKeyId"], deployer["AccessKeySecret"], target=url)
    page.wait_for_url(f"**{url}")
    assert "Waiting for approval" in page.inner_text("ol.timeline")
    assert "Production (2)" in page.inner_text("dl.fields")
    shot(page, "deployment-review")

    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"**{url}")
    assert "Successful (1)" in page.inner_text("#pkg-status")
    assert f"Approved by {deployer['UserId']}" in page.inner_text("ol.timeline")
    assert page.get_by_role("button", name="Approve").count() == 0
    deployment = tea.call("GetDeployment", ProjectId=pid, DeploymentId=package_id)["Data"]
    assert deployment["Deployment"]["Status"] == 1
    assert deployment["Deployment"]["HandlerId"] == deployer["UserId"]

    # approving again is refused by the core (the package no longer waits)
    again = page.request.post(url + "/approve", form={"csrf": _csrf(page)})
    assert again.status == 400 and "NotAwaitingApproval" in again.text()


def test_owner_rejects_with_a_reason(
    page: Any, workspace: Workspace, tea: TeaClient, shot: Shot
) -> None:
    pid = workspace.id
    package_id = _waiting_package(tea, pid)
    url = f"/console/w/{pid}/deployments/{package_id}"
    sign_in_with_key(page, *DEV_KEY, target=url)
    page.wait_for_url(f"**{url}")

    page.get_by_role("button", name="Reject").click()  # the reason is required: nothing sent
    assert page.url.endswith(url)
    assert "Ready (0)" in page.inner_text("#pkg-status")
    page.get_by_label("Reason for rejecting").fill("Overwrites dws_sales during business hours.")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_url(f"**{url}")
    assert "Rejected (6)" in page.inner_text("#pkg-status")
    assert page.inner_text("#pkg-error") == "Overwrites dws_sales during business hours."
    assert "Rejected (6)" in page.inner_text("#package table")
    assert "Rejected by 1000000000000001" in page.inner_text("ol.timeline")
    shot(page, "deployment-rejected")

    found = tea.call("ListDeployments", ProjectId=pid, Status=6, PageSize=100)["Data"]
    assert package_id in [d["Id"] for d in found["Deployments"]]
    empty = page.request.post(url + "/reject", form={"csrf": _csrf(page), "reason": "  "})
    assert empty.status == 400
