"""Files in a browser: folder tree, DEV and PROD side by side, history and line diffs."""

from __future__ import annotations

from typing import Any

from tests.sdk.clients import TeaClient
from tests.sdk.conftest import DEV_KEY

from .conftest import Shot, finished, new_file, new_workspace, sign_in_with_key

V1 = "SELECT order_id,\n       amount\nFROM ods_orders\nWHERE ds = '${bizdate}';"
V2 = "SELECT order_id,\n       amount,\n       currency\nFROM ods_orders\nWHERE ds = '${bizdate}';"


def test_dev_and_prod_side_by_side_and_the_diff_page(page: Any, tea: TeaClient, shot: Shot) -> None:
    pid = new_workspace(tea)
    fid = new_file(tea, pid, V1)
    assert (
        finished(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])["Status"] == 1
    )
    assert (
        finished(tea, pid, tea.call("DeployFile", ProjectId=pid, FileId=fid)["Data"])["Status"] == 1
    )
    tea.call("UpdateFile", ProjectId=pid, FileId=fid, Content=V2)
    assert (
        finished(tea, pid, tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])["Status"] == 1
    )

    sign_in_with_key(page, *DEV_KEY, target=f"/console/w/{pid}/files")
    page.wait_for_url(f"**/console/w/{pid}/files")
    tree = page.get_by_role("navigation", name="Folders")
    tree.get_by_role("link", name="MaxCompute").click()
    page.wait_for_url("**folder=**")
    assert page.inner_text("h1").endswith("/sales/MaxCompute")
    shot(page, "files")
    page.locator(f"a[href='/console/w/{pid}/files/{fid}']").click()
    page.wait_for_url(f"**/files/{fid}")

    dev = page.get_by_role("region", name="Development (DEV)")
    prod = page.get_by_role("region", name="Production (PROD)")
    assert "Version 2" in dev.inner_text() and "currency" in dev.inner_text()
    assert "Version 1" in prod.inner_text() and "currency" not in prod.inner_text()
    history = page.locator("table").inner_text()
    assert "PROD" in history and "DEV" in history and "UPDATE" in history
    shot(page, "file")

    page.get_by_role("link", name="Compare production (version 1) with development").click()
    page.wait_for_url(f"**/files/{fid}/diff?from=1&to=2")
    assert page.inner_text("#diff-summary") == "2 lines added, 1 line removed."
    added = [r.inner_text() for r in page.locator("table.diff tr.add td code").all()]
    removed = [r.inner_text() for r in page.locator("table.diff tr.del td code").all()]
    assert added == ["       amount,", "       currency"]
    assert removed == ["       amount"]
    shot(page, "diff")

    # pick the other direction with the form (keyboard only)
    page.get_by_label("Old side").select_option("2")
    page.get_by_label("New side").select_option("working")
    page.get_by_role("button", name="Show line diff").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**from=2&to=working")
    assert "The two are identical." in page.inner_text("main")

    response = page.goto(f"/console/w/{pid}/files/{fid}/diff?from=1&to=7")
    assert response.status == 404
    response = page.goto(f"/console/w/{pid}/files/{fid}/diff?from=x&to=1")
    assert response.status == 400
    response = page.goto(f"/console/w/{pid}/files/{fid + 1000}")
    assert response.status == 404 and "InvalidFile.NotFound" in page.inner_text("main")
