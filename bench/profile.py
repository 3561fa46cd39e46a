"""Profile the server under GetDeployment load with py-spy (sampling, non-blocking).

    subject up ─▶ py-spy record --pid (raw collapsed stacks of running threads)
               ─▶ wrk GetDeployment load ─▶ stop ─▶ top functions by inclusive / self share

Samples every non-idle thread (``gil=True``: only the thread holding the GIL). Writes
``<out>.txt`` (collapsed stacks, loadable by speedscope / flamegraph.pl) and prints
the summary. ``pip install py-spy`` first (not a project dependency).
"""

from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .load import run_load, temp_batch, write_batch
from .procs import start_subject
from .scenarios import HOST, Bench
from .seed import Seeded

__all__ = ["profile", "summarize"]


def profile(bench: Bench, s: Seeded, seconds: float, out: str, gil: bool = False) -> None:
    spy = shutil.which("py-spy") or str(Path(__import__("sys").executable).with_name("py-spy"))
    subject = start_subject(bench.workdir, s.database_url)
    batch = temp_batch("profile-")
    make = bench.get_deployment(s)
    write_batch(batch, HOST, (make() for _ in range(int(bench.rate_cap * seconds) + 100)))
    raw = Path(out + ".txt")
    try:
        recorder = subprocess.Popen(
            [spy, "record", "--pid", str(subject.process.pid), "--format", "raw",
             *(["--gil"] if gil else []), "--nonblocking", "--rate", "200",
             "--output", str(raw), "--duration", str(int(seconds) + 1)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.5)
        result = run_load(subject.port, batch, seconds, bench.connections)
        try:
            recorder.wait(seconds + 30)
        except subprocess.TimeoutExpired:
            recorder.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
            recorder.wait(60)
    finally:
        subject.stop()
        batch.unlink()
    print(f"profile: {result.rps:.0f} req/s under py-spy, p99 {result.p99_ms:.1f} ms")
    print(summarize(raw))


def _frame(entry: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)"
    name, _, where = entry.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    short = "/".join(path.split("/")[-2:])
    return f"{name} ({short})"


def summarize(raw: Path, top: int = 30) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";") if "(" in f]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for f in set(frames):
            inclusive[f] += count
    lines = [f"{total} samples of running (non-idle) threads", "", "inclusive  self   function"]
    for name, count in inclusive.most_common(top):
        lines.append(f"{count / total:7.1%} {own[name] / total:6.1%}  {name}")
    lines += ["", "top self time:"]
    for name, count in own.most_common(15):
        lines.append(f"{count / total:7.1%}  {name}")
    return "\n".join(lines)
