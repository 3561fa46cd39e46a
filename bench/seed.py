"""Seed a benchmark database: one workspace with N packages, their items, N files with a
version each, and the packages' mirror pipeline runs (2024-05-18).

Rows go in through the store layer's schema (tables of ``openworks.store.schema`` after
``openworks.store.migrate``, written in bulk by bench/seed_write.py: one executemany on
SQLite, COPY on PostgreSQL, triggers firing row by row), not through the API::

    migrate ─▶ root account + a second user ─▶ workspace (SqlTx.insert_project)
        ─▶ files + version 1 (N), in batches
        ─▶ packages (N) + one item (package k ships file k) + one mirror run each
           (bench/seed_runs.py), in batches
        ─▶ PostgreSQL: move the id sequences past the explicit ids ─▶ ANALYZE

Row shapes follow bench/seed_shape.py (layout 3): package Status 1 SUCCESS for 95 % (2
FAILED otherwise), creator the root user for 90 % (the second user otherwise), independently;
every package name contains ``table`` (so scenario 3's filter, Status 1 + ``table`` + root,
matches 85.5 % at every size), 85 % of names ``daily`` and 0.1 % ``needle`` (the list
scenario's keywords); file ``k`` has package ``k``'s name tokens, its creator as owner, and
where the package failed type 6 (Shell) and CommitStatus 0 (changed since its commit), else
type 10 and CommitStatus 1. Create times increase with the id. No
package is READY, so the worker stays idle. Every package has its mirror run, as SubmitFile
/ DeployFile would have made it. A JSON sidecar (``<db>.json`` for SQLite) records what was
seeded.

    python -m bench.seed --packages 1000000 --database-url sqlite:////tmp/ow-bench/1m.db
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, inspect, select, text

from openworks.config import DEFAULT_ACCOUNT_ID
from openworks.core.model import Project
from openworks.store import make_engine, migrate
from openworks.store.db import MIGRATIONS
from openworks.store.identity import ensure_account
from openworks.store.repo import SqlTx
from openworks.store.schema import file_versions, files, package_items, packages, users
from openworks.store.schema_pipeline import pipeline_runs

from .seed_runs import run_id, run_row
from .seed_shape import LAYOUT, failed, other, tag
from .seed_write import bulk_insert

__all__ = ["OTHER_USER", "Seeded", "seed"]

OTHER_USER = "2000000000000002"
BATCH = 50_000
DAY_MS = 86_400_000


@dataclass
class Seeded:
    database_url: str
    packages: int
    project_id: int
    project_identifier: str
    first_package_id: int
    last_package_id: int
    first_file_id: int
    files: int
    seconds: float
    runs: int = 0  # mirror pipeline runs (one a package); 0: seeded before runs were
    layout: int = 0  # bench/seed_shape.py LAYOUT it was seeded with; 0: before layouts


def _batches(start: int, stop: int, size: int = BATCH) -> Iterator[range]:
    for lo in range(start, stop, size):
        yield range(lo, min(lo + size, stop))


def _next_id(conn: Connection, table: str, id_col: Any) -> int:
    current = conn.execute(select(func.max(id_col))).scalar()
    if conn.dialect.name == "sqlite":
        seq = conn.execute(
            text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}
        ).scalar()
    else:
        seq = conn.execute(text(f"SELECT last_value FROM {table}_id_seq")).scalar()
    return max(int(current or 0), int(seq or 0)) + 1


def _write(engine: Engine) -> Connection:
    conn = engine.connect()
    conn.info["write"] = True
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA synchronous=OFF")  # a throwaway load: durability is not needed
        raw.execute("PRAGMA cache_size=-262144")  # 256 MB: the indexes' pages stay in memory
    return conn


# The last migration before the list counters and text indexes (0016): a fresh database is
# seeded at this revision and then upgraded, so the counters and indexes are built once from
# the rows (34-41 s at 1M) instead of by triggers row by row (minutes).
BULK_BEFORE = "0015"


def _migrate_for_bulk(engine: Engine) -> bool:
    """Migrate a fresh database to :data:`BULK_BEFORE` (True), any other to the heads."""
    with engine.connect() as conn:
        fresh = not inspect(conn).has_table("alembic_version")
    if not fresh:
        migrate(engine)
        return False
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, BULK_BEFORE)
    return True


def seed(database_url: str, n_packages: int, *, log: bool = True) -> Seeded:
    started = time.perf_counter()
    engine = make_engine(database_url)
    bulk = _migrate_for_bulk(engine)
    ensure_account(engine, DEFAULT_ACCOUNT_ID)
    now = int(time.time() * 1000)
    n_files = n_packages
    conn = _write(engine)
    try:
        with conn.begin():
            if not conn.execute(select(users.c.id).where(users.c.id == OTHER_USER)).first():
                conn.execute(
                    insert(users).values(
                        id=OTHER_USER, account_id=DEFAULT_ACCOUNT_ID, name="bench-other",
                        create_time=now,
                    )
                )  # fmt: skip
            identifier = f"bench_{n_packages}_{now}"
            project_id = SqlTx(conn).insert_project(
                Project(
                    id=0, account_id=DEFAULT_ACCOUNT_ID, identifier=identifier,
                    name=identifier, mode=3, owner_id=DEFAULT_ACCOUNT_ID,
                    create_time=now, modify_time=now,
                )
            )  # fmt: skip
            first_file = _next_id(conn, "files", files.c.id)
            first_package = _next_id(conn, "packages", packages.c.id)
        t0 = now - n_packages * 1000  # one package a second, ending now
        for ids in _batches(first_file, first_file + n_files):
            with conn.begin():
                rows = [_file_row(i, i - first_file, project_id, t0) for i in ids]
                bulk_insert(conn, files, rows)
                bulk_insert(conn, file_versions, [_version_row(r) for r in rows])
        for ids in _batches(first_package, first_package + n_packages):
            rows = [_package_row(i, i - first_package, project_id, first_file, n_files, t0)
                    for i in ids]  # fmt: skip
            file_of = {i: first_file + (i - first_package) % n_files for i in ids}
            with conn.begin():
                bulk_insert(conn, packages, rows)
                bulk_insert(
                    conn, package_items,
                    [{"package_id": i, "file_id": file_of[i], "file_version": 1, "status": 1}
                     for i in ids],
                )  # fmt: skip
                bulk_insert(conn, pipeline_runs, [run_row(r, file_of[r["id"]]) for r in rows])
            if log:
                done = ids.stop - first_package
                print(f"seed: {done}/{n_packages} packages", file=sys.stderr, end="\r")
        if bulk:  # the list counters and text indexes, built once from the rows
            migrate(engine)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                for table in ("files", "packages"):
                    conn.execute(
                        text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                    )
                conn.exec_driver_sql("ANALYZE")
            else:
                conn.exec_driver_sql("ANALYZE")
        if conn.dialect.name == "sqlite":
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
        engine.dispose()
    seeded = Seeded(
        database_url=database_url, packages=n_packages, project_id=project_id,
        project_identifier=identifier, first_package_id=first_package,
        last_package_id=first_package + n_packages - 1, first_file_id=first_file,
        files=n_files, seconds=round(time.perf_counter() - started, 2), runs=n_packages,
        layout=LAYOUT,
    )  # fmt: skip
    if log:
        print(f"seed: {n_packages} packages in {seeded.seconds:.1f}s", file=sys.stderr)
    return seeded


def _file_row(i: int, k: int, project_id: int, t0: int) -> dict[str, Any]:
    name = f"ods_table_{i}_{tag(k)}"
    owner = OTHER_USER if other(k) else DEFAULT_ACCOUNT_ID
    return {
        "id": i, "project_id": project_id, "name": name, "name_key": name,
        "file_type": 6 if failed(k) else 10, "content": f"SELECT {i};",
        "folder_path": "Business Flow/bench/MaxCompute", "description": "", "owner": owner,
        "config": "{}", "commit_status": 0 if failed(k) else 1, "current_version": 1,
        "node_id": 700_000_000_000 + i, "deleted_status": "NORMAL", "use_type": "NORMAL",
        "auto_parsing": False, "create_user": owner, "create_time": t0,
        "last_edit_user": owner, "last_edit_time": t0, "prod_version": 1,
    }  # fmt: skip


def _version_row(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "file_id": f["id"], "version": 1, "change_type": "CREATE", "status": "DEPLOYED",
        "comment": "", "commit_time": f["create_time"], "commit_user": f["owner"],
        "name": f["name"], "file_type": f["file_type"], "content": f["content"],
        "folder_path": f["folder_path"], "owner": f["owner"], "description": "",
        "config": "{}", "node_id": f["node_id"], "use_type": "NORMAL", "package_id": None,
    }  # fmt: skip


def _package_row(
    pid: int, k: int, project_id: int, first_file: int, n_files: int, t0: int
) -> dict[str, Any]:
    created = t0 + k * 1000
    bad = failed(k)
    creator = OTHER_USER if other(k) else DEFAULT_ACCOUNT_ID
    day = time.strftime("%Y-%m-%d", time.gmtime(created / 1000))
    deploy = k % 2 == 1
    return {
        "id": pid, "project_id": project_id,
        "name": f"ods_table_{first_file + k % n_files}_{tag(k)}-{day}_{creator}",
        "status": 2 if bad else 1, "from_env": 1 if deploy else 0,
        "to_env": 2 if deploy else 1, "checking_status": None, "creator_id": creator,
        "handler_id": creator, "create_time": created, "execute_time": created + 40,
        "error_message": "bench: seeded failure" if bad else None, "comment": "",
        "hold": None, "run_id": run_id(pid),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=1_000_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", help="write the seed summary (JSON) here")
    args = parser.parse_args(argv)
    seeded = seed(args.database_url, args.packages)
    summary = json.dumps(asdict(seeded), indent=2)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(summary)
    print(summary)


if __name__ == "__main__":
    main()
