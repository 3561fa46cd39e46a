"""Signing in and out, sessions and CSRF, in a real browser."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.sdk.clients import TeaClient
from tests.sdk.conftest import DEV_KEY, RunningServer, unique

from .conftest import Shot, cli, new_workspace, sign_in_with_key


def _session_cookie(page: Any) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies() if c["name"] == "ow_session"), None)


def test_sign_in_with_access_key_bad_then_good_then_sign_out(
    page: Any, tea: TeaClient, shot: Shot
) -> None:
    project_id = new_workspace(tea)
    page.goto("/console/w")
    assert "/console/login" in page.url  # not signed in: sent to the sign-in page
    shot(page, "login")

    sign_in_with_key(page, DEV_KEY[0], "not-the-secret", target=page.url)
    assert page.get_by_role("alert").inner_text() == (
        "The AccessKey ID or AccessKey Secret is not valid."
    )
    assert _session_cookie(page) is None
    sign_in_with_key(page, "LTAIunknownKey000000000", DEV_KEY[1], target=page.url)
    assert "not valid" in page.get_by_role("alert").inner_text()

    sign_in_with_key(page, *DEV_KEY, target=page.url)
    page.wait_for_url("**/console/w")
    assert page.get_by_role("heading", name="Workspaces").is_visible()
    assert page.get_by_role("link", name=re.compile("Deployment packages")).count() >= 1
    assert page.locator(f"a[href='/console/w/{project_id}/deployments']").count() == 1
    cookie = _session_cookie(page)
    assert cookie is not None
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain HTTP here; Secure is set when served over HTTPS
    assert cookie["path"] == "/console"
    shot(page, "workspaces")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login")
    assert _session_cookie(page) is None
    page.goto("/console/w")
    assert "/console/login" in page.url


def test_session_cookie_is_refused_after_sign_out(page: Any) -> None:
    sign_in_with_key(page, *DEV_KEY)
    page.wait_for_url("**/console/w")
    token = _session_cookie(page)
    assert token is not None
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login")
    # replaying the old cookie does not bring the session back
    page.context.add_cookies([token])
    page.goto("/console/w")
    assert "/console/login" in page.url


def test_sign_in_with_console_password(
    page: Any, console_server: RunningServer, tea: TeaClient
) -> None:
    root_project = new_workspace(tea)
    name = unique("carol")
    user = json.loads(cli(console_server, "users", "create", name))
    out = cli(console_server, "users", "passwd", name, "--password-stdin", stdin="s3cret-pass\n")
    assert user["UserId"] in out

    page.goto("/console/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill("wrong-password")
    page.get_by_role("button", name="Sign in with password").click()
    assert page.get_by_role("alert").inner_text() == "The user name or password is not valid."

    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill("s3cret-pass")
    page.get_by_role("button", name="Sign in with password").click()
    page.wait_for_url("**/console/w")
    assert name in page.locator(".who").inner_text()
    # carol is in no workspace: the list is empty and root's workspace is refused
    assert "not a member of any workspace" in page.inner_text("main")
    response = page.goto(f"/console/w/{root_project}/deployments")
    assert response.status == 403
    assert "UserNotInProject" in page.inner_text("main")


def test_forms_without_the_right_csrf_token_are_refused(page: Any, tea: TeaClient) -> None:
    project_id = new_workspace(tea)
    sign_in_with_key(page, *DEV_KEY)
    page.wait_for_url("**/console/w")
    token = page.locator("form[action='/console/logout'] input[name=csrf]").get_attribute("value")
    assert token

    targets = ["/console/logout", f"/console/w/{project_id}/deployments/1/reject"]
    for target in targets:
        for form in ({}, {"csrf": "forged-" + token[:10]}, {"csrf": ""}):
            response = page.request.post(target, form={**form, "reason": "x"})
            assert response.status == 403, (target, form)
            assert "security token" in response.text()
    # NUL cannot be stored (PostgreSQL text): refused before anything is read from the form
    response = page.request.post(targets[1], form={"csrf": token, "reason": "no\x00"})
    assert response.status == 400
    assert "NUL" in response.text()
    # still signed in: the refused posts did nothing
    page.goto("/console/w")
    assert page.get_by_role("heading", name="Workspaces").is_visible()

    # the sign-in form is protected too: a post without the sign-in page's token is refused
    fresh = page.context.browser.new_context(base_url=page.url.split("/console")[0])
    try:
        response = fresh.request.post(
            "/console/login",
            form={"access_key_id": DEV_KEY[0], "access_key_secret": DEV_KEY[1], "csrf": "x" * 43},
        )
        assert response.status == 403
        assert not any(c["name"] == "ow_session" for c in fresh.cookies())
    finally:
        fresh.close()
