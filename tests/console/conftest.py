"""A real server and a real browser (Debian's chromium driven by Playwright) for console tests.

The browser is the system Chromium (``apt-get install -y chromium``); nothing is downloaded.
Without it the tests fail with that command, unless ``OPENWORKS_SKIP_BROWSER_TESTS=1``.
Data is created through the official SDK. Screenshots (the ``shot`` fixture) go to a temporary
directory, so a test run leaves the checkout as it was; ``scripts/screenshots.sh`` runs the
tests that take them with ``OPENWORKS_SCREENSHOTS=docs/screenshots`` to refresh the README's
pictures.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sdk.clients import TeaClient
from tests.sdk.conftest import DEV_KEY, RunningServer, start_server, unique

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Where ``shot`` writes when set (scripts/screenshots.sh: docs/screenshots); else a temporary dir.
SCREENSHOTS_ENV = "OPENWORKS_SCREENSHOTS"
Shot = Callable[[Any, str], Path]


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')."
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing: apt-get install -y chromium"
    return None


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Our own server on SQLite (the tests hold packages with an SQLite trigger)."""
    tmp = tmp_path_factory.mktemp("console")
    running = start_server(tmp, database_url=f"sqlite:///{tmp}/ow.db")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module: Playwright's sync API keeps an event loop running in
    this thread while it is open, so it must be closed before other tests call asyncio.run."""
    missing = _browser_missing()
    if missing is not None:
        if os.environ.get("OPENWORKS_SKIP_BROWSER_TESTS") == "1":
            pytest.skip(missing)
        pytest.fail(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def base_url(console_server: RunningServer) -> str:
    return f"http://{console_server.endpoint}"


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def tea(console_server: RunningServer) -> TeaClient:
    return TeaClient(console_server.endpoint, *DEV_KEY)


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get(SCREENSHOTS_ENV)
    if not chosen:
        return tmp_path_factory.mktemp("screenshots")
    path = Path(chosen).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def shot(screenshot_dir: Path) -> Shot:
    """``shot(page, "name")`` saves a full-page PNG as ``name.png`` in ``screenshot_dir``."""

    def take(page: Any, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0, path
        return path

    return take


def sign_in_with_key(page: Any, key_id: str, secret: str, target: str = "/console/w") -> None:
    page.goto(target)
    page.get_by_label("AccessKey ID").fill(key_id)
    page.get_by_label("AccessKey Secret").fill(secret)
    page.get_by_role("button", name="Sign in with AccessKey").click()


def new_workspace(tea: TeaClient, mode: int = 3) -> int:
    data = tea.call(
        "CreateProject", ProjectIdentifier=unique("console_ws"), ProjectName="Sales mart",
        ProjectMode=mode,
    )  # fmt: skip
    return int(data["Data"])


def new_file(tea: TeaClient, project_id: int, content: str, **extra: Any) -> int:
    data = tea.call(
        "CreateFile", ProjectId=project_id, FileName=unique("ods_orders"), FileType=10,
        Content=content, FileFolderPath="Business Flow/sales/MaxCompute",
        CreateFolderIfNotExists=True, **extra,
    )  # fmt: skip
    return int(data["Data"])


def finished(tea: TeaClient, project_id: int, deployment_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        data = tea.call("GetDeployment", ProjectId=project_id, DeploymentId=deployment_id)
        deployment: dict[str, Any] = data["Data"]["Deployment"]
        if deployment["Status"] != 0 or time.monotonic() > deadline:
            return deployment
        time.sleep(0.05)


def cli(server: RunningServer, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "openworks", *args, "--database-url", server.database_url],
        env=server.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class PackageHold:
    """Makes new packages wait (``hold`` set by an SQLite trigger) until released.

    Only the test's view of time changes: packages are still created by the SDK and run by
    the server's own worker once released.
    """

    def __init__(self, server: RunningServer) -> None:
        self.path = server.database_url.removeprefix("sqlite:///")

    def _run(self, *sql: str) -> None:
        with sqlite3.connect(self.path, timeout=30) as conn:
            for statement in sql:
                conn.execute(statement)

    def __enter__(self) -> PackageHold:
        self._run(
            "CREATE TRIGGER console_test_hold AFTER INSERT ON packages BEGIN "
            "UPDATE packages SET hold = 'console-test' WHERE id = NEW.id; END"
        )
        return self

    def release(self) -> None:
        self._run(
            "DROP TRIGGER IF EXISTS console_test_hold",
            "UPDATE packages SET hold = NULL WHERE hold = 'console-test'",
        )

    def __exit__(self, *_exc: object) -> None:
        self.release()


@pytest.fixture
def hold(console_server: RunningServer) -> Callable[[], PackageHold]:
    return lambda: PackageHold(console_server)
