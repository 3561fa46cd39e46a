"""Scenarios 8 and 12: the server on PostgreSQL, two API processes, one seeded database.

::

    CREATE DATABASE bench_<pid> ─▶ seed N packages (bench/seed.py, once for both)
        ─▶ 8  GetDeployment: `serve --workers 2` vs baselines a, b (SQLite, small) and
              c (b's handler on a psycopg pool, 2 processes, same database), interleaved
        ─▶ 12 scenario 4's lifecycle loop + 5's package latency: `serve --workers 2`
              (two API processes and, on PostgreSQL, the worker process serve starts)
        ─▶ DROP DATABASE (always, also after a failure)

Scenario 12 runs after 8, so 8 reads only seeded rows; its lifecycles add rows to the
database that is dropped at the end.
"""

from __future__ import annotations

import os

from .procs import Proc, start_baseline, start_subject
from .scenarios import Bench
from .seed import Seeded, seed

__all__ = ["PG_ADMIN", "postgres"]

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
WORKERS = ("--workers", "2")


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n:,}"


def postgres(
    bench: Bench, n: int, small: Seeded, only: set[int], lifecycle_seconds: float,
    clients: int = 16,
) -> None:  # fmt: skip
    """Scenarios 8 and / or 12 (as ``only`` says) on a fresh database of ``n`` packages."""
    import psycopg

    name = f"bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        s = seed(url, n)
        if 8 in only:
            _reads(bench, s, small)
        if 12 in only:
            subject = start_subject(bench.workdir, url, extra=WORKERS, name="pg-lifecycle")
            try:
                bench.lifecycle(subject, s, lifecycle_seconds, clients, number="12",
                                where="PostgreSQL, serve --workers 2", latency="12",
                                target=150)  # fmt: skip
            finally:
                subject.stop()
            bench.rows[-3].note += f"; {_label(n)} packages seeded in {s.seconds:.0f}s"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _reads(bench: Bench, s: Seeded, small: Seeded) -> None:
    procs: list[Proc] = []
    try:
        procs.append(start_subject(bench.workdir, s.database_url, extra=WORKERS))
        make = bench.get_deployment(s)
        bodies = bench.capture_bodies(procs[0], {"GetDeployment": make}, out="bodies-pg.json")
        procs.append(start_baseline(bench.workdir, "a", bodies=bodies))
        procs.append(start_baseline(bench.workdir, "b", db=_sqlite_path(small)))
        procs.append(start_baseline(bench.workdir, "c", dsn=s.database_url, workers=2))
        subject, a, b, c = procs
        summary = bench.compare(f"pg-get-{s.packages}", [subject], a, b, make, c=c)
    finally:
        for p in procs:
            p.stop()
    ok = summary["ratio_c"] >= 0.7 and summary["p99_ms"] <= 20
    bench.throughput_rows(f"8 GetDeployment, PostgreSQL {_label(s.packages)} pkgs, 2 procs",
                          summary, ">= 0.7 c, p99 <= 20 ms", ok)  # fmt: skip
    bench.rows[-2].note += (
        f"; serve --workers 2 vs c = b's handler on a psycopg pool, 2 processes;"
        f" seeded in {s.seconds:.0f}s"
    )


def _sqlite_path(s: Seeded) -> str:
    return s.database_url.split("///", 1)[1]
