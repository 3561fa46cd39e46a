"""Run the whole benchmark suite and print a compact results table.

    python -m bench [--quick] [--packages N] [--seconds S] [--rounds R]
                    [--only 1,2,3,4,5,6,7,8,9,10,11,12,13]
    python -m bench profile [--seconds S]       # py-spy under GetDeployment load

Order of work::

    seed (cached in --workdir, a pristine copy per size) ─▶ per size: subject + baselines a, b
        ─▶ 1/2 GetDeployment ─▶ 9 GetPipelineRun (2024 GET) ─▶ 3 ListDeployments p1, p100
        ─▶ flatness ratios ─▶ 11 four lists x filter kinds at both sizes, exact TotalCount
        ─▶ working copy of the large database (the writing scenarios never touch the seed)
        ─▶ 4/5 lifecycles + package latency ─▶ 10 2024 Online run loop
        ─▶ 13 lifecycles + latency with `serve --workers 2` on SQLite
        ─▶ 6 memory ─▶ 7 cold start
        ─▶ PostgreSQL database seeded once: 8 GetDeployment, 2 API processes, vs baseline c
           ─▶ 12 lifecycles + latency with `serve --workers 2` ─▶ dropped
        ─▶ table (stdout) + results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import time
from dataclasses import asdict, replace
from pathlib import Path

from .lists import list_rows
from .postgres import postgres
from .procs import Proc, start_baseline, start_subject
from .scenarios import Bench, Row
from .scenarios2024 import GET_RUN, get_pipeline_run, run_loop_rows
from .seed import Seeded, seed
from .seed_shape import LAYOUT

__all__ = ["ALL", "ensure_seeded", "main", "working_copy"]

ALL = "1,2,3,4,5,6,7,8,9,10,11,12,13"


def ensure_seeded(workdir: Path, n: int) -> Seeded:
    """The cached SQLite database with ``n`` seeded packages (seeded on first use)."""
    db, meta = workdir / f"packages-{n}.db", workdir / f"packages-{n}.json"
    if db.exists() and meta.exists():
        cached = Seeded(**json.loads(meta.read_text()))
        if cached.layout == LAYOUT:  # else seeded with another shape (or none): reseed
            return cached
    for leftover in workdir.glob(f"packages-{n}.db*"):
        leftover.unlink()
    seeded = seed(f"sqlite:///{db}", n)
    meta.write_text(json.dumps(asdict(seeded)))
    return seeded


def working_copy(workdir: Path, s: Seeded) -> Seeded:
    """A fresh copy of the seeded SQLite database (and of its server key file) for the
    scenarios that write (lifecycles, run loop), so that the cached seed holds only seeded
    rows (scenario 11 counts them)."""
    src_path = Path(s.database_url.split("///", 1)[1])
    dst_path = src_path.with_name(src_path.stem + ".work.db")
    for leftover in workdir.glob(dst_path.name + "*"):
        leftover.unlink()
    src, dst = sqlite3.connect(src_path), sqlite3.connect(dst_path)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    key = src_path.with_name(src_path.name + ".key")  # the server key sealing its secrets
    if key.exists():
        shutil.copy2(key, dst_path.with_name(dst_path.name + ".key"))
    return replace(s, database_url=f"sqlite:///{dst_path}")


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n:,}"


def throughput(bench: Bench, sizes: list[Seeded], only: set[int]) -> None:
    results: dict[tuple[str, int], dict[str, object]] = {}
    a: Proc | None = None
    try:
        for s in sizes:
            subject = start_subject(bench.workdir, s.database_url)
            b = start_baseline(bench.workdir, "b", db=s.database_url.split("///", 1)[1])
            try:
                if a is None:
                    bodies = bench.capture_bodies(subject, {
                        "GetDeployment": bench.get_deployment(s),
                        "ListDeployments": bench.list_deployments(s, 1),
                        GET_RUN: get_pipeline_run(s),
                    }, frozenset({GET_RUN}))  # fmt: skip
                    a = start_baseline(bench.workdir, "a", bodies=bodies)
                large = s is sizes[0]
                label = _label(s.packages)
                if only & {1, 2}:
                    summary = bench.compare(f"get-{s.packages}", [subject], a, b,
                                            bench.get_deployment(s))  # fmt: skip
                    results[("get", s.packages)] = summary
                    ok = summary["ratio_b"] >= 0.7 and summary["ratio_a"] >= 0.25
                    ok = ok and summary["p99_ms"] <= 10
                    bench.throughput_rows(
                        f"{1 if large else 2} GetDeployment, {label} pkgs",
                        summary,
                        ">= 0.7 b, >= 0.25 a, p99 <= 10 ms" if large else "",
                        ok if large else None,
                    )
                if 9 in only:
                    summary = bench.compare(f"get-run-{s.packages}", [subject], a, b,
                                            get_pipeline_run(s), signer="get2024")  # fmt: skip
                    results[("get-run", s.packages)] = summary
                    ok = summary["ratio_b"] >= 0.7 and summary["p99_ms"] <= 10
                    bench.throughput_rows(
                        f"9 GetPipelineRun (2024 GET), {label} runs",
                        summary,
                        ">= 0.7 b, p99 <= 10 ms" if large else "",
                        ok if large else None,
                    )
                if 3 in only:
                    for page in (1, 100):
                        summary = bench.compare(
                            f"list-{s.packages}-p{page}", [subject], a, b,
                            bench.list_deployments(s, page), max(bench.seconds, 10), 8,
                        )  # fmt: skip
                        results[(f"list{page}", s.packages)] = summary
                        bench.throughput_rows(
                            f"3 ListDeployments p{page}, {label} pkgs, 8 conns", summary
                        )
            finally:
                subject.stop()
                b.stop()
    finally:
        if a is not None:
            a.stop()
    if len(sizes) < 2:
        return
    big, small = sizes[0].packages, sizes[1].packages
    for kind, target in (("get", 0.9), ("get-run", 0.9), ("list1", 0.5), ("list100", 0.5)):
        if (kind, big) not in results:
            continue
        hi, lo = results[(kind, big)], results[(kind, small)]
        raw = hi["rps"]["subject"] / lo["rps"]["subject"]  # type: ignore[index]
        norm = hi["ratio_a"] / lo["ratio_a"]  # type: ignore[operator]
        bench.rows.append(Row(f"flatness {kind}", f"{_label(big)} / {_label(small)}", raw, "x",
                              target=f">= {target}", met=norm >= target,
                              note=f"normalised by baseline a: {norm:.2f}"))  # fmt: skip


def _fmt(v: float | None, digits: int = 2) -> str:
    if v is None:
        return ""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.{digits}f}"


def table(rows: list[Row]) -> str:
    head = ["scenario", "metric", "value", "unit", "x a", "x b", "x c", "target", "met", "note"]
    met = {None: "", True: "yes", False: "NO"}
    body = [
        [r.scenario, r.metric, _fmt(r.value), r.unit, _fmt(r.vs_a), _fmt(r.vs_b),
         _fmt(r.vs_c), r.target, met[r.met], r.note]
        for r in rows
    ]  # fmt: skip
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "profile"])
    parser.add_argument("--quick", action="store_true", help="short runs (minutes, not an hour)")
    parser.add_argument("--packages", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--pg-packages", type=int, help="default: 100k quick, --packages full")
    parser.add_argument("--seconds", type=float, help="per load run (default 3 quick, 10 full)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 2 quick, 3 full)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", default=ALL, help=f"scenario numbers (default {ALL})")
    parser.add_argument("--clients", type=int, default=16, help="scenarios 4, 10, 12, 13")
    parser.add_argument("--list-seconds", type=float,
                        help="scenario 11, per load run (default 2 quick, 3 full)")  # fmt: skip
    parser.add_argument("--workdir", default="/tmp/ow-bench")
    parser.add_argument("--out", help="profile output prefix (profile command)")
    parser.add_argument("--gil", action="store_true", help="profile: only the GIL holder")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("BENCH_TMP", str(workdir))
    quick = args.quick
    bench = Bench(workdir, args.seconds or (3 if quick else 10), args.rounds or (2 if quick else 3),
                  args.connections)  # fmt: skip
    large = ensure_seeded(workdir, args.packages)
    if args.command == "profile":
        from .profile import profile

        out = args.out or str(workdir / "profile")
        profile(bench, large, args.seconds or 20, out, gil=args.gil)
        return
    only = {int(x) for x in args.only.split(",") if x}
    small = ensure_seeded(workdir, args.small)
    started = time.perf_counter()
    print(f"bench: {platform.node()} {os.cpu_count()} cpus, python {platform.python_version()},"
          f" {'quick' if quick else 'full'} mode, {bench.seconds:.0f}s x {bench.rounds} rounds,"
          f" {bench.connections} connections", flush=True)  # fmt: skip
    if only & {1, 2, 3, 9}:
        throughput(bench, [large, small], only)
    save(bench)
    if 11 in only:
        list_rows(bench, large, small, args.list_seconds or (2 if quick else 3))
    save(bench)
    lifecycle_seconds = 10 if quick else 30
    work = working_copy(workdir, large) if only & {4, 5, 10, 13} else large
    if only & {4, 5}:
        subject = start_subject(workdir, work.database_url)
        try:
            bench.lifecycle(subject, work, lifecycle_seconds, args.clients)
        finally:
            subject.stop()
    save(bench)
    if 10 in only:
        subject = start_subject(workdir, work.database_url)
        try:
            run_loop_rows(bench, subject, work, lifecycle_seconds, args.clients)
        finally:
            subject.stop()
    save(bench)
    if 13 in only:
        subject = start_subject(workdir, work.database_url, extra=("--workers", "2"))
        try:
            bench.lifecycle(subject, work, lifecycle_seconds, args.clients, number="13",
                            where="SQLite, serve --workers 2", latency="13")  # fmt: skip
        finally:
            subject.stop()
    save(bench)
    if 6 in only:
        n, t1, t2 = (5_000, 5, 25) if quick else (1_000_000, 60, 300)
        bench.memory(large, n, t1, t2, chunk=10 if quick else 30)
    save(bench)
    if 7 in only:
        bench.cold_start(large, workdir / "bodies.json")
    save(bench)
    if only & {8, 12}:
        n = args.pg_packages or (100_000 if quick else args.packages)
        postgres(bench, n, small, only, lifecycle_seconds, args.clients)
    out = save(bench)
    print(table(bench.rows))
    print(f"bench: done in {time.perf_counter() - started:.0f}s; raw results in {out}")


def save(bench: Bench) -> Path:
    """Write everything measured so far to ``<workdir>/results.json``."""
    out = bench.workdir / "results.json"
    document = {"rows": [asdict(r) for r in bench.rows], "raw": bench.raw}
    out.write_text(json.dumps(document, indent=1, default=str))
    return out


if __name__ == "__main__":
    main()
