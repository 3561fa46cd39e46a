"""The Deploy center in a browser: live list, filters, paging and the package page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.sdk.clients import TeaClient
from tests.sdk.conftest import DEV_KEY, unique

from .conftest import PackageHold, Shot, finished, new_file, new_workspace, sign_in_with_key

ROOT = "1000000000000001"


def test_package_from_the_sdk_appears_and_turns_successful_without_reload(
    page: Any, tea: TeaClient, hold: Callable[[], PackageHold], shot: Shot
) -> None:
    pid = new_workspace(tea)
    fid = new_file(tea, pid, "SELECT order_id, amount\nFROM ods_orders\nWHERE ds = '${bizdate}';")
    sign_in_with_key(page, *DEV_KEY, target=f"/console/w/{pid}/deployments")
    page.wait_for_url(f"**/console/w/{pid}/deployments")
    assert "No package matches." in page.inner_text("#results")
    page.evaluate("window.__sameDocument = true")

    with hold() as held:
        package_id = tea.call("SubmitFile", ProjectId=pid, FileId=fid, Comment="first")["Data"]
        row = page.locator(f"tr[data-id='{package_id}']")
        row.wait_for()  # appeared by itself (idle refresh of the first page)
        assert "Ready (0)" in row.inner_text()
        shot(page, "deployments-pending")
        held.release()
        page.wait_for_selector(f"tr[data-id='{package_id}'][data-status='1']")
    assert "Successful (1)" in row.inner_text()
    assert page.evaluate("window.__sameDocument") is True  # never reloaded
    shot(page, "deployments")

    row.get_by_role("link", name=str(package_id)).click()
    page.wait_for_url(f"**/deployments/{package_id}")
    fields = page.inner_text("dl.fields")
    for words in (
        "Successful (1)", "No check pending", "Local (0)", "Development (1)", ROOT, "first",
    ):  # fmt: skip
        assert words in fields, words
    items = page.inner_text("table")
    assert "Version 1" in items and "CREATE" in items and "Successful (1)" in items
    timeline = page.inner_text("ol.timeline")
    assert "Created" in timeline and "Executed" in timeline
    page.get_by_role("link", name="Version 1").click()
    page.wait_for_url(f"**/files/{fid}?version=1#content")
    assert "FROM ods_orders" in page.inner_text("#content + p + pre")


def test_failed_package_says_why(page: Any, tea: TeaClient, shot: Shot) -> None:
    pid = new_workspace(tea)
    fid = new_file(tea, pid, "SELECT 1;", InputList="nobody.produces_this")
    package_id = tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    deployment = finished(tea, pid, package_id)
    assert deployment["Status"] == 2

    sign_in_with_key(page, *DEV_KEY, target=f"/console/w/{pid}/deployments/{package_id}")
    page.wait_for_url(f"**/deployments/{package_id}")
    assert "Failed (2)" in page.inner_text("#pkg-status")
    assert page.inner_text("#pkg-error") == deployment["ErrorMessage"]
    assert "nobody.produces_this" in deployment["ErrorMessage"]
    assert "Error (2)" in page.inner_text("#package table")
    shot(page, "deployment-failed")

    page.goto(f"/console/w/{pid}/deployments?status=2")
    assert page.locator("tr[data-id]").count() == 1
    page.goto(f"/console/w/{pid}/deployments?status=1")
    assert page.locator("tr[data-id]").count() == 0


def test_filters_and_pages(page: Any, tea: TeaClient) -> None:
    pid = new_workspace(tea)
    fid = new_file(tea, pid, "SELECT 0;")
    ids: list[int] = []
    for n in range(21):
        if n:
            tea.call("UpdateFile", ProjectId=pid, FileId=fid, Content=f"SELECT {n};")
        ids.append(int(tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]))
        assert finished(tea, pid, ids[-1])["Status"] == 1
    other = new_file(tea, pid, "SELECT 'other';")
    other_name = tea.call("GetFile", ProjectId=pid, FileId=other)["Data"]["File"]["FileName"]
    other_id = int(tea.call("SubmitFile", ProjectId=pid, FileId=other)["Data"])
    finished(tea, pid, other_id)

    sign_in_with_key(page, *DEV_KEY, target=f"/console/w/{pid}/deployments")
    page.wait_for_url(f"**/console/w/{pid}/deployments")
    assert "22 packages" in page.inner_text("caption")
    assert page.locator("tr[data-id]").count() == 20
    assert "Page 1 of 2" in page.inner_text("nav.pages")
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url("**page=2")
    assert page.locator("tr[data-id]").count() == 2
    assert page.locator(f"tr[data-id='{ids[0]}']").count() == 1  # oldest on the last page

    page.goto(f"/console/w/{pid}/deployments")
    page.get_by_label("Name contains").fill(other_name)
    page.get_by_label("Status").select_option("1")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*keyword=.*"))
    assert [r.get_attribute("data-id") for r in page.locator("tr[data-id]").all()] == [
        str(other_id)
    ]
    page.goto(f"/console/w/{pid}/deployments?creator={unique('nobody')}")
    assert "No package matches." in page.inner_text("#results")
    page.goto(f"/console/w/{pid}/deployments?created_before=2000-01-01T00:00")
    assert "No package matches." in page.inner_text("#results")
    page.goto(f"/console/w/{pid}/deployments?executed_before=2999-01-01T00:00&executor={ROOT}")
    assert page.locator("tr[data-id]").count() == 20

    response = page.goto(f"/console/w/{pid}/deployments?status=9")
    assert response.status == 400 and "Status must be one of" in page.inner_text("main")
    response = page.goto(f"/console/w/{pid}/deployments/999999999")
    assert response.status == 404 and "InvalidDeployment.NotFound" in page.inner_text("main")
    response = page.goto("/console/w/424242/deployments")
    assert response.status == 404
