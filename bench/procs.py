"""Server processes for the benchmark: the subject (``openworks serve``) and the baselines.

Each server is one child process on a free loopback port, logging to a file (with
``--workers N`` that child supervises N API processes of its own); ``Proc.rss_mb`` reads
the resident set from ``/proc``, ``Proc.cpu_seconds`` sums the CPU of the whole process tree::

    /proc/<pid>/stat of the child ─┬─ utime + stime
                                   └─ + every descendant's (found by its ppid), alive now

Only processes started here are ever stopped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Proc", "free_port", "post", "start_baseline", "start_subject", "wait_healthy"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started: float = field(default_factory=time.perf_counter)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_seconds(self) -> float:
        """User + system CPU time the process and its live descendants (all their threads)
        have used so far: a ``serve --workers N`` supervisor and its API processes."""
        ticks = 0
        for pid in _tree(self.process.pid):
            try:
                fields = _stat(pid)
            except OSError:  # exited between the listing and the read
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def pids(self) -> list[int]:
        """The process and its live descendants."""
        return _tree(self.process.pid)

    def stop(self) -> None:
        """Terminate the process; descendants it leaves behind (``--workers`` processes of
        a supervisor that died first) are terminated too, each checked by its start time."""
        children = [(pid, _started(pid)) for pid in self.pids() if pid != self.process.pid]
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        deadline = time.monotonic() + 10
        for pid, started in children:
            while started is not None and _started(pid) == started:
                sig = signal.SIGTERM if time.monotonic() < deadline else signal.SIGKILL
                try:
                    os.kill(pid, sig)
                except OSError:
                    break
                time.sleep(0.1)


def _started(pid: int) -> str | None:
    try:
        return _stat(pid)[19]  # starttime: tells a reused pid from ours
    except (OSError, IndexError):
        return None


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat(int(entry))[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def wait_healthy(proc: Proc, timeout: float = 60, interval: float = 0.005) -> float:
    """Seconds from process start to the first 200 on /healthz."""
    deadline = time.perf_counter() + timeout
    url = f"http://127.0.0.1:{proc.port}/healthz"
    while time.perf_counter() < deadline:
        if proc.process.poll() is not None:
            raise RuntimeError(f"{proc.name} exited:\n{proc.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter() - proc.started
        except OSError:
            time.sleep(interval)
    raise RuntimeError(f"{proc.name} not healthy:\n{proc.log_path.read_text()[-3000:]}")


def _spawn(name: str, args: list[str], workdir: Path, port: int, env: dict[str, str]) -> Proc:
    log_path = workdir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    return Proc(name, port, process, log_path, started)


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKS_")}
    env.update({"XDG_DATA_HOME": str(workdir / "xdg"), "NO_PROXY": "*", "no_proxy": "*"})
    return env


def start_subject(
    workdir: Path, database_url: str, *, port: int | None = None, wait: bool = True,
    extra: tuple[str, ...] = (), name: str = "openworks",
) -> Proc:  # fmt: skip
    port = port or free_port()
    args = [sys.executable, "-m", "openworks", "serve", "--port", str(port),
            "--database-url", database_url, *extra]  # fmt: skip
    proc = _spawn(name, args, workdir, port, _env(workdir))
    if wait:
        wait_healthy(proc)
    return proc


def start_baseline(
    workdir: Path, kind: str, *, bodies: Path | None = None, db: str | None = None,
    dsn: str | None = None, workers: int = 2,
) -> Proc:  # fmt: skip
    """Baseline (a) on ``bodies``, (b) on the SQLite file ``db``, or (c) on the PostgreSQL
    ``dsn`` as ``workers`` processes (bench/baselines.py)."""
    port = free_port()
    args = [sys.executable, "-m", "bench.baselines", kind, "--port", str(port)]
    if kind == "a":
        args += ["--bodies", str(bodies)]
    elif kind == "b":
        args += ["--db", str(db)]
    else:
        args += ["--dsn", str(dsn), "--workers", str(workers)]
    env = _env(workdir)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    proc = _spawn(f"baseline-{kind}", args, workdir, port, env)
    wait_healthy(proc)
    return proc


def post(
    port: int, headers: dict[str, str], body: bytes, method: str = "POST", target: str = "/"
) -> tuple[int, bytes]:
    """One request (a POST unless told), its status and body."""
    url = f"http://127.0.0.1:{port}{target}"
    req = urllib.request.Request(url, body or None, headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()
