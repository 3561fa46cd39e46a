"""The measured scenarios; each returns rows for the results table.

Throughput scenarios interleave the subject with both baselines, round by round::

    round r:  baseline a ─▶ baseline b ─▶ subject   (order rotated each round)
    figure = median over rounds; ratio = median of the per-round ratios

so machine noise that lasts longer than one run hits all three alike.
"""

from __future__ import annotations

import compileall
import importlib.util
import json
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .lifecycle import run_lifecycles
from .load import Result, get_2024, run_load, sign_acs3, temp_batch, write_batch
from .procs import Proc, post, start_baseline, start_subject, wait_healthy
from .seed import Seeded

__all__ = ["Bench", "Row"]

ROOT = "1000000000000001"
HOST = "127.0.0.1"
Maker = Callable[[], tuple[str, dict[str, str]]]


@dataclass
class Row:
    scenario: str
    metric: str
    value: float
    unit: str
    vs_a: float | None = None
    vs_b: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    vs_c: float | None = None  # baseline (c), PostgreSQL scenarios


@dataclass
class Bench:
    workdir: Path
    seconds: float
    rounds: int
    connections: int = 32
    rate_cap: float = 10000.0
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    # -- request makers ------------------------------------------------------------------
    @staticmethod
    def get_deployment(s: Seeded) -> Maker:
        def make() -> tuple[str, dict[str, str]]:
            pkg = random.randint(s.first_package_id, s.last_package_id)
            return "GetDeployment", {"ProjectId": str(s.project_id), "DeploymentId": str(pkg)}

        return make

    @staticmethod
    def list_deployments(s: Seeded, page: int) -> Maker:
        params = {"ProjectId": str(s.project_id), "Status": "1", "Keyword": "table",
                  "Creator": ROOT, "PageNumber": str(page), "PageSize": "5"}  # fmt: skip
        return lambda: ("ListDeployments", dict(params))

    # -- helpers -------------------------------------------------------------------------
    def batch(self, make: Maker, count: int, signer: str = "acs3") -> Path:
        path = temp_batch("bench-")
        write_batch(path, HOST, (make() for _ in range(count)), signer)
        return path

    def capture_bodies(
        self, subject: Proc, makers: dict[str, Maker], gets: frozenset[str] = frozenset(),
        out: str = "bodies.json",
    ) -> Path:  # fmt: skip
        """Answers of the subject for baseline (a), written to ``<workdir>/<out>``; actions
        in ``gets`` are 2024 GETs."""
        bodies = {}
        for action, make in makers.items():
            if action in gets:
                target, headers, payload = get_2024(HOST, *make())
                status, body = post(subject.port, headers, payload, "GET", target)
            else:
                status, body = post(subject.port, *sign_acs3(HOST, *make()))
            if status != 200:
                raise RuntimeError(f"{action}: {status} {body[:300]!r}")
            bodies[action] = body.decode()
        path = self.workdir / out
        path.write_text(json.dumps(bodies))
        return path

    def load(
        self, proc: Proc, make: Maker, seconds: float | None = None, conns: int | None = None,
        signer: str = "acs3", rate: float | None = None,
    ) -> Result:  # fmt: skip
        """One load run; the batch holds ``rate`` (default ``rate_cap``) requests a second."""
        secs = seconds or self.seconds
        path = self.batch(make, int((rate or self.rate_cap) * secs) + 100, signer)
        try:
            cpu = proc.cpu_seconds()
            result = run_load(proc.port, path, secs, conns or self.connections)
            used = proc.cpu_seconds() - cpu
            result.cpu_us_per_request = used / max(result.requests, 1) * 1e6
            return result
        finally:
            path.unlink()

    def compare(
        self, scenario: str, subjects: list[Proc], a: Proc, b: Proc, make: Maker,
        seconds: float | None = None, conns: int | None = None, signer: str = "acs3",
        c: Proc | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Interleaved rounds; ``subjects`` with more than one process are loaded together;
        ``signer`` as in :func:`bench.load.write_batch`; baseline ``c`` joins the rounds
        when given (``ratio_c`` in the summary)."""
        procs = {"a": a, "b": b, **({"c": c} if c is not None else {})}
        order = [*procs, "subject"]
        runs: dict[str, list[Result]] = {k: [] for k in order}
        for r in range(self.rounds):
            k = r % len(order)
            for who in order[k:] + order[:k]:
                if who == "subject" and len(subjects) > 1:
                    runs[who].append(self._load_all(subjects, make, signer))
                else:
                    proc = procs.get(who, subjects[0])
                    runs[who].append(self.load(proc, make, seconds, conns, signer))
        rps = {k: statistics.median(x.rps for x in v) for k, v in runs.items()}
        ratios = {
            f"ratio_{k}": statistics.median(
                s.rps / max(x.rps, 1e-9) for s, x in zip(runs["subject"], runs[k], strict=True)
            )
            for k in procs
        }
        summary = {
            "rps": rps,
            **ratios,
            "p50_ms": statistics.median(x.p50_ms for x in runs["subject"]),
            "p99_ms": statistics.median(x.p99_ms for x in runs["subject"]),
            "b_p99_ms": statistics.median(x.p99_ms for x in runs["b"]),
            "errors": sum(x.non_2xx + x.socket_errors for x in runs["subject"]),
            "cpu_us": {
                k: statistics.median(x.cpu_us_per_request for x in v) for k, v in runs.items()
            },
            "runs": {k: [vars(x) for x in v] for k, v in runs.items()},
        }
        if c is not None:
            summary["c_p99_ms"] = statistics.median(x.p99_ms for x in runs["c"])
        self.raw[scenario] = summary
        return summary

    def _load_all(self, subjects: list[Proc], make: Maker, signer: str = "acs3") -> Result:
        per = max(1, self.connections // len(subjects))
        count = int(self.rate_cap * self.seconds) + 100
        paths = [self.batch(make, count, signer) for _ in subjects]
        results: list[Result] = []

        def go(proc: Proc, path: Path) -> None:
            cpu = proc.cpu_seconds()
            result = run_load(proc.port, path, self.seconds, per)
            used = proc.cpu_seconds() - cpu
            result.cpu_us_per_request = used / max(result.requests, 1) * 1e6
            results.append(result)

        pairs = zip(subjects, paths, strict=True)
        threads = [threading.Thread(target=go, args=pair) for pair in pairs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p in paths:
            p.unlink()
        secs = max(r.seconds for r in results)
        total = sum(r.requests for r in results)
        return Result(
            total, secs, sum(r.rps for r in results),
            statistics.mean(r.p50_ms for r in results), max(r.p90_ms for r in results),
            max(r.p99_ms for r in results), sum(r.non_2xx for r in results),
            sum(r.socket_errors for r in results), results[0].tool,
            statistics.mean(r.cpu_us_per_request for r in results),
        )  # fmt: skip

    def throughput_rows(self, scenario: str, summary: dict[str, Any], target: str = "",
                        met: bool | None = None) -> None:  # fmt: skip
        rps = summary["rps"]
        cpu = summary["cpu_us"]
        extra = [k for k in ("c",) if k in rps]
        note = (
            f"a={rps['a']:.0f}/s b={rps['b']:.0f}/s"
            + "".join(f" {k}={rps[k]:.0f}/s" for k in extra)
            + f"; server CPU/req: subject {cpu['subject']:.0f} us, a {cpu['a']:.0f} us, "
            f"b {cpu['b']:.0f} us" + "".join(f", {k} {cpu[k]:.0f} us" for k in extra)
        )
        if summary["errors"]:
            note += f"; {summary['errors']} subject errors"
        self.rows.append(
            Row(
                scenario,
                "requests/s",
                rps["subject"],
                "req/s",
                summary["ratio_a"],
                summary["ratio_b"],
                target,
                met,
                note,
                vs_c=summary.get("ratio_c"),
            )
        )
        tail = f"; c p99 {summary['c_p99_ms']:.1f} ms" if "c_p99_ms" in summary else ""
        self.rows.append(Row(scenario, "p50 / p99 latency",
                             summary["p99_ms"], "ms (p99)",
                             note=f"p50 {summary['p50_ms']:.1f} ms; b p99 "
                                  f"{summary['b_p99_ms']:.1f} ms{tail}"))  # fmt: skip

    # -- scenarios 4-7 -------------------------------------------------------------------
    def lifecycle(
        self, subject: Proc, s: Seeded, seconds: float, clients: int = 16, *,
        number: str = "4", where: str = "SQLite", latency: str = "5", target: float = 200,
    ) -> None:  # fmt: skip
        """Rows ``<number> lifecycle`` (lifecycles/s against ``target``) and ``<latency>
        package latency`` (p50, p99) of one lifecycle run; the server's CPU is that of its
        whole process tree (``serve --workers N`` included)."""
        procs = len(subject.pids())
        cpu = subject.cpu_seconds()
        res = run_lifecycles(subject.port, s.project_id, clients=clients, seconds=seconds)
        cpu = subject.cpu_seconds() - cpu  # server CPU: API threads, event loops and workers
        per_lifecycle_ms = cpu / max(res.lifecycles, 1) * 1000
        self.raw[f"lifecycle-{number}"] = {
            "lifecycles": res.lifecycles, "seconds": res.seconds, "calls": res.calls,
            "failures": res.failures, "per_second": res.per_second,
            "latency_p50_ms": res.pct(0.5), "latency_p99_ms": res.pct(0.99),
            "server_cpu_seconds": cpu, "server_cpu_ms_per_lifecycle": per_lifecycle_ms,
            "server_processes": procs,
        }  # fmt: skip
        per_s = res.per_second
        ok = per_s >= target
        self.rows.append(Row(f"{number} lifecycle, {clients} clients, {where}", "lifecycles/s",
                             per_s, "/s", target=f">= {target:.0f}", met=ok,
                             note=f"{res.calls / res.seconds:.0f} calls/s, "
                                  f"{res.failures} failures, server CPU "
                                  f"{per_lifecycle_ms:.1f} ms a lifecycle "
                                  f"({cpu / res.seconds * 100:.0f} % of a core, "
                                  f"{procs} server process(es))"))  # fmt: skip
        p50, p99 = res.pct(0.5), res.pct(0.99)
        scenario = f"{latency} package latency" + ("" if latency == "5" else f", {where}")
        self.rows.append(Row(scenario, "p50", p50, "ms", target="<= 20", met=p50 <= 20,
                             note=f"{len(res.latencies_ms)} packages"))  # fmt: skip
        self.rows.append(Row(scenario, "p99", p99, "ms", target="<= 100", met=p99 <= 100))

    def memory(
        self, s: Seeded, total_requests: int, t1: float, t2: float, chunk: float = 20.0,
        cap: float = 900.0,
    ) -> None:  # fmt: skip
        """RSS over steady GetDeployment load; stops at ``total_requests`` or ``cap`` s."""
        subject = start_subject(self.workdir, s.database_url)
        make = self.get_deployment(s)
        samples: list[tuple[float, int, float]] = [(0.0, 0, subject.rss_mb())]
        load_time, done = 0.0, 0
        try:
            while load_time < t2 or (done < total_requests and load_time < cap):
                secs = min(chunk, max(t2 - load_time, 1.0)) if load_time < t2 else chunk
                res = self.load(subject, make, secs)
                load_time += res.seconds
                done += res.requests
                samples.append((load_time, done, subject.rss_mb()))
        finally:
            subject.stop()
        self.raw["memory"] = {"samples": samples}
        at_t1 = next(r for t, _, r in samples if t >= t1)
        at_t2 = next(r for t, _, r in samples if t >= t2)
        sent, at_n = samples[-1][1], samples[-1][2]
        peak = max(r for _, _, r in samples)
        growth = (at_t2 - at_t1) / at_t1 * 100
        self.rows.append(
            Row(
                "6 memory",
                f"RSS after {sent:,} requests",
                at_n,
                "MB",
                target="<= 150",
                met=peak <= 150,
                note=f"peak {peak:.0f} MB, start {samples[0][2]:.0f} MB",
            )
        )
        nonces = nonce_cache_mb()
        self.rows.append(
            Row(
                "6 memory (component)",
                "nonce cache holding 1M nonces",
                nonces,
                "MB",
                note="MemoryNonceCache alone, 1M unique nonces spread over the window",
            )
        )
        self.rows.append(Row("6 memory", f"RSS growth {t1:.0f}s -> {t2:.0f}s of load", growth,
                             "%", target="<= 10", met=growth <= 10,
                             note=f"{at_t1:.0f} -> {at_t2:.0f} MB"))  # fmt: skip

    def cold_start(self, s: Seeded, bodies: Path, repeats: int = 3) -> None:
        _compile_package()
        if not bodies.exists():  # scenario 7 alone: the bare app needs some answer to serve
            bodies.write_text(json.dumps({"GetDeployment": "{}"}))
        subj, bare = [], []
        for _ in range(repeats):
            proc = start_subject(self.workdir, s.database_url, wait=False)
            try:
                subj.append(wait_healthy(proc))
            finally:
                proc.stop()
            a = start_baseline(self.workdir, "a", bodies=bodies)
            bare.append(a.started and time.perf_counter() - a.started)
            a.stop()
        imports = _import_time()
        value = statistics.median(subj)
        self.raw["cold_start"] = {"subject": subj, "bare_upper_bound": bare, "imports": imports}
        self.rows.append(Row("7 cold start (SQLite, migrated)", "start -> first 200 /healthz",
                             value * 1000, "ms", vs_a=value / min(bare), target="<= 1000",
                             met=value <= 1.0,
                             note=f"min {min(subj) * 1000:.0f} ms; bare app <= "
                                  f"{min(bare) * 1000:.0f} ms; `import openworks.app` "
                                  f"{imports * 1000:.0f} ms"))  # fmt: skip


_NONCES = """
import time, uuid
from openworks.protocol import MemoryNonceCache
def rss():
    return next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmRSS"))
cache, before, now = MemoryNonceCache(), rss(), time.time()
for i in range(1_000_000):  # spread over the 30-minute window, as 555 requests/s would be
    cache.check_and_add("openworks-dev-key", uuid.uuid4().hex, now + i * 0.0018)
print((rss() - before) / 1024)
"""


def nonce_cache_mb() -> float:
    """RSS added by one MemoryNonceCache holding 1,000,000 nonces (measured in a child)."""
    cmd = [sys.executable, "-c", _NONCES]
    return float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def _compile_package() -> None:
    """Bytecode for every module of openworks, as installing its wheel writes it: an editable
    checkout on a machine with PYTHONDONTWRITEBYTECODE=1 (this one) otherwise compiles the
    whole package again at every start (~130 ms). The dependencies' bytecode pip wrote."""
    spec = importlib.util.find_spec("openworks")
    assert spec is not None and spec.origin is not None
    compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def _import_time() -> float:
    code = "import time;t=time.perf_counter();import openworks.app;print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())
