"""``openworks worker``: execute deployment packages without serving the API.

Any number of workers (and of `serve` processes with their own workers) may run against one
database: packages are claimed in transactions, so each runs exactly once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from types import FrameType

import click

from . import main
from .common import DATABASE_URL, LOG_FORMAT, open_secrets

__all__ = ["worker"]


@main.command()
@DATABASE_URL
@click.option("--log-level", default="info", show_default=True)
@LOG_FORMAT
@click.option(
    "--control",
    is_flag=True,
    envvar="OPENWORKS_CONTROL",
    default=False,
    help="Honour test control (execution modes, forced failures) like a `serve --control` "
    "server on the same database. For test setups only.",
)
@click.option(
    "--parent-pid",
    type=int,
    hidden=True,
    help="Stop when this process is no longer the parent (the worker `serve` starts).",
)
def worker(
    database_url: str | None,
    log_level: str,
    log_format: str,
    control: bool,
    parent_pid: int | None,
) -> None:
    """Run a package worker (and the check/extension loop) until interrupted."""
    from openworks.config import configure_logging
    from openworks.store import open_core
    from openworks.worker import Worker

    configure_logging(log_level, log_format)
    settings, engine, box = open_secrets(database_url)
    core = open_core(engine, box, test_control=control or settings.control)
    pause_ms = int(os.environ.get("OPENWORKS_TEST_EXECUTION_PAUSE_MS") or "0")
    if pause_ms:
        log = logging.getLogger("openworks.worker")

        def pause(package_id: int) -> None:
            log.warning(
                "holding package %s mid-execution for %d ms (test hook)", package_id, pause_ms
            )
            time.sleep(pause_ms / 1000)

        core.inside_execution = pause
    runner = Worker(core, idle_seconds=0.2)
    core.on_package = runner.notify
    stopped = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if parent_pid is not None:
        _watch_parent(stopped, parent_pid)
    runner.start()
    click.echo(f"openworks: worker running on {engine.url.render_as_string(hide_password=True)}")
    stopped.wait()
    runner.stop()
    engine.dispose()


def _watch_parent(stopped: threading.Event, parent: int, every: float = 0.5) -> None:
    """Set ``stopped`` once ``parent`` is not this process's parent any more (it died and
    this process was re-parented; also if that happened before this process looked)."""

    def watch() -> None:
        while os.getppid() == parent:
            if stopped.wait(every):
                return
        stopped.set()

    threading.Thread(target=watch, name="openworks-parent-watch", daemon=True).start()
