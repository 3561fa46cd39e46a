"""The presenters: one set of words per code, one document per entity shared by the faces."""

from __future__ import annotations

from openworks.core.approvals import Reviewer
from openworks.core.model import (
    CheckingStatus,
    Env,
    Item,
    ItemStatus,
    Package,
    PackageStatus,
    Project,
    ProjectMode,
)
from openworks.presenters import deployment, labels, workspace


def _package(**changes: object) -> Package:
    package = Package(3, 10, "p", 1, 2, "creator", "handler", 1000, items=[Item(5, 2, 1)])
    for name, value in changes.items():
        setattr(package, name, value)
    return package


def test_every_code_has_words() -> None:
    assert set(labels.PACKAGE_STATUS) == {int(s) for s in PackageStatus}
    assert set(labels.PACKAGE_STATUS_NAME) == {int(s) for s in PackageStatus}
    assert set(labels.ITEM_STATUS) == {int(s) for s in ItemStatus}
    assert set(labels.ENVIRONMENTS) == {int(e) for e in Env}
    assert set(labels.CHECKING) == {int(c) for c in CheckingStatus}
    assert set(labels.WORKSPACE_MODE) == {int(m) for m in ProjectMode}
    # plain ints, so that templates and f-strings print numbers
    assert all(type(k) is int for k in labels.PACKAGE_STATUS)


def test_the_cli_card_carries_every_field_of_get_deployment() -> None:
    package = _package(status=PackageStatus.FAILED, checking_status=7, error_message="no")
    wire = deployment.deployment(package)
    card = deployment.card(package)
    assert {k: card[k] for k in wire["Deployment"]} == wire["Deployment"]
    assert (
        card["DeployedItems"]
        == wire["DeployedItems"]
        == [{"FileId": 5, "FileVersion": 2, "Status": 1}]
    )
    assert card["StatusName"] == "FAILED"


def test_a_held_package_is_waiting_with_its_reviewers() -> None:
    package = _package(hold="approval")
    team = [Reviewer("1", "root", ()), Reviewer("2", "ann", ("role_project_owner",))]
    card = deployment.card(package, team=team)
    assert card["StatusName"] == labels.WAITING_FOR_APPROVAL
    assert card["Reviewers"][0]["Roles"] == ["root"]


def test_the_workspace_summary_is_shared_by_list_and_show() -> None:
    project = Project(1, "acct", "ws", "WS", ProjectMode.BASIC, "owner", create_time=0)
    summary = workspace.workspace_summary(project)
    details = workspace.workspace_details(project, [], {})
    assert summary["Mode"] == "basic" and summary["EnvTypes"] == ["PROD"]
    assert {k: details[k] for k in summary} == summary
    assert details["CreateTime"] is None
    assert workspace.project_document(project)["TenantId"] is None
