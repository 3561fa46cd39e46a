"""The 2024-05-18 scenarios (issue 18): GetPipelineRun at 1M runs, and the Online run loop.

9   GetPipelineRun on the seeded mirror runs (bench/seed_runs.py): signed GETs (ACS3 over
    the query, empty body, as the 2024 Tea SDK sends them) through ``Bench.compare`` against
    baseline (a) and a (b) that reads the run and its packages minimally
    (bench/baseline_runs.py); rows like scenario 1 (run from ``bench.run.throughput``).
10  the 2024 Online run to PROD by N clients driving the generic loop (bench/runloop.py):
    runs/s, per-run latency and the server's CPU per run, like scenario 4.
"""

from __future__ import annotations

import random

from .procs import Proc
from .runloop import run_loop
from .scenarios import Bench, Maker, Row
from .seed import Seeded
from .seed_runs import run_id

__all__ = ["GET_RUN", "get_pipeline_run", "run_loop_rows"]

GET_RUN = "GetPipelineRun"


def get_pipeline_run(s: Seeded) -> Maker:
    """A random seeded run (sign with ``signer="get2024"``)."""

    def make() -> tuple[str, dict[str, str]]:
        pkg = random.randint(s.first_package_id, s.last_package_id)
        return GET_RUN, {"Id": run_id(pkg), "ProjectId": str(s.project_id)}

    return make


def run_loop_rows(
    bench: Bench, subject: Proc, s: Seeded, seconds: float, clients: int = 16
) -> None:
    cpu = subject.cpu_seconds()
    res = run_loop(subject.port, s.project_id, clients=clients, seconds=seconds)
    cpu = subject.cpu_seconds() - cpu
    per_run_ms = cpu / max(res.runs, 1) * 1000
    bench.raw["run_loop"] = {
        "runs": res.runs, "seconds": res.seconds, "calls": res.calls, "execs": res.execs,
        "failures": res.failures, "per_second": res.per_second,
        "latency_p50_ms": res.pct(0.5), "latency_p99_ms": res.pct(0.99),
        "server_cpu_seconds": cpu, "server_cpu_ms_per_run": per_run_ms,
    }  # fmt: skip
    scenario = f"10 2024 Online run loop, {clients} clients"
    bench.rows.append(
        Row(scenario, "runs to PROD /s", res.per_second, "/s", target=">= 100",
            met=res.per_second >= 100,
            note=f"{res.calls / res.seconds:.0f} calls/s, {res.failures} failures, server "
                 f"CPU {per_run_ms:.1f} ms a run ({cpu / res.seconds * 100:.0f} % of a core)")
    )  # fmt: skip
    bench.rows.append(
        Row(scenario, "run latency p99", res.pct(0.99), "ms",
            note=f"p50 {res.pct(0.5):.1f} ms; {len(res.latencies_ms)} runs")
    )  # fmt: skip
