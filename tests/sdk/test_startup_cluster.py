"""Several ``openworks serve`` hosts on one database (issue 13, items 9 and 11).

* Hosts started at the same moment all come up: on a fresh database (one migrates, the
  others wait on the migration lock and find it done) and on a migrated one (the root
  account and key are registered once, with idempotent inserts under a lock).
* A host whose server key does not open the secrets in the database refuses to start with
  a one-line message and writes nothing: the hosts with the right key keep working.

Runs on SQLite by default and on PostgreSQL when OPENWORKS_TEST_POSTGRES is set.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from openworks.store import make_engine
from openworks.store.identity import lookup_key
from openworks.store.secrets import SecretBox
from tests.dbutil import fresh_database_url, postgres_base

from .clients import TeaClient
from .conftest import DEV_KEY, free_port, start_server, wait_healthy
from .test_scale_out import WorkerProcess, worker_env

KEY_A = "server-key-A-" + "a" * 40
KEY_B = "server-key-B-" + "b" * 40
MISMATCH = "the server key does not open the secrets in this database"


@dataclass
class Host(WorkerProcess):
    """A started ``openworks serve`` (log and stop as for a worker process)."""

    port: int


def new_database(tmp: Path, name: str) -> str:
    return fresh_database_url("boot") if postgres_base() else f"sqlite:///{tmp}/{name}.db"


def launch(tmp: Path, url: str, env: dict[str, str], name: str) -> Host:
    """``openworks serve`` without waiting for it (so that several start together)."""
    port = free_port()
    log_path = tmp / f"serve-{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "openworks", "serve", "--port", str(port),
             "--database-url", url],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    return Host(process, log_path, port)


def start_together(tmp: Path, url: str, env: dict[str, str], count: int, name: str) -> None:
    hosts = [launch(tmp, url, env, f"{name}{n}") for n in range(count)]
    try:
        for host in hosts:
            wait_healthy(host.port, host.process, host.log_path)
        client = TeaClient(f"127.0.0.1:{hosts[-1].port}", *DEV_KEY)
        client.call("ListProjects")  # the root key authenticates
    finally:
        for host in hosts:
            host.stop()


def test_hosts_started_together_all_come_up(tmp_path: Path) -> None:
    # The server key comes from the key file in the shared data directory, which the
    # first host creates: the others must read it whole, never half-written.
    env = worker_env(tmp_path)
    for round_ in range(2):
        url = new_database(tmp_path, f"fresh{round_}")
        start_together(tmp_path, url, env, 4, f"fresh{round_}-")  # all migrate at once
        start_together(tmp_path, url, env, 2, f"again{round_}-")  # all register at once


def test_a_host_with_another_server_key_refuses_to_start(tmp_path: Path) -> None:
    first = start_server(tmp_path, extra_env={"OPENWORKS_SECRET_KEY": KEY_A})
    try:
        engine = make_engine(first.database_url, pool=False)
        with engine.connect() as conn:
            before = conn.exec_driver_sql("SELECT id, secret FROM access_keys").all()
        env = {**first.env, "OPENWORKS_SECRET_KEY": KEY_B}
        done = subprocess.run(
            [sys.executable, "-m", "openworks", "serve", "--port", str(free_port()),
             "--database-url", first.database_url],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode != 0
        assert "Traceback" not in done.stderr, done.stderr
        (line,) = [n for n in done.stderr.splitlines() if MISMATCH in n]
        assert line.startswith("openworks: ") and "OPENWORKS_SECRET_KEY" in line
        with engine.connect() as conn:  # nothing was rewritten
            assert conn.exec_driver_sql("SELECT id, secret FROM access_keys").all() == before
        # the first host still authenticates its root key (first lookup: not cached)
        TeaClient(first.endpoint, *DEV_KEY).call("ListProjects")
        assert lookup_key(engine, SecretBox(KEY_A.encode()), DEV_KEY[0]) is not None
        # and the CLI (here `openworks worker`) with the wrong key refuses too
        worker = subprocess.run(
            [sys.executable, "-m", "openworks", "worker", "--database-url",
             first.database_url],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert worker.returncode != 0 and MISMATCH in worker.stderr
        engine.dispose()
    finally:
        first.stop()


def test_two_keys_racing_on_a_fresh_database_leave_one_key(tmp_path: Path) -> None:
    url = new_database(tmp_path, "race")
    base = worker_env(tmp_path)
    hosts = [
        launch(tmp_path, url, {**base, "OPENWORKS_SECRET_KEY": key}, name)
        for key, name in ((KEY_A, "a"), (KEY_B, "b"))
    ]
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and all(h.process.poll() is None for h in hosts):
            time.sleep(0.05)
        refused = [h for h in hosts if h.process.poll() is not None]
        assert len(refused) == 1, [h.log() for h in hosts]
        assert MISMATCH in refused[0].log()
        (running,) = [h for h in hosts if h is not refused[0]]
        wait_healthy(running.port, running.process, running.log_path)
        TeaClient(f"127.0.0.1:{running.port}", *DEV_KEY).call("ListProjects")
    finally:
        for host in hosts:
            host.stop()
