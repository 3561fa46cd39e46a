"""Repository of pipeline runs (``Tx.pipeline()``), over ``schema_pipeline.pipeline_runs``.

The stored stages are a JSON list ``[{"code", "triggered", "status", "message"}]``; the
domain (:mod:`openworks.core.pipeline_runs`) reads and writes whole runs.

GetPipelineRun's read is one statement (:meth:`SqlRunStore.run_read`)::

    pipeline_runs ─LEFT JOIN packages AS dev_package  ON id = dev_package_id
                  ─LEFT JOIN packages AS prod_package ON id = prod_package_id
        ─▶ the run's columns, then per package: id (NULL: none), status, checking_status,
           hold, error_message (what ``run_stages.derive`` reads)

A run already in hand re-derives from those columns of its packages alone, one statement
for both (:meth:`SqlRunStore.package_states`). On SQLite a write transaction is the only
writer from its BEGIN IMMEDIATE on, so locking a run read earlier in it returns that copy
(:meth:`SqlRunStore.lock_run`); PostgreSQL reads it again FOR UPDATE. Every statement
on the path of a run's stages (by id, insert, update, the object's active runs) runs on
the driver (store/hot.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Row, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.sql import FromClause

from openworks.core.model import Page, PipelineRun, RunStage
from openworks.core.run_stages import PackageState, RunRead

from .hot import HotRead, HotWrite
from .list_counts import counted
from .schema import packages, projects
from .schema_counts import pipeline_run_counts
from .schema_pipeline import pipeline_runs

__all__ = ["SqlRunStore"]

_FINAL = ("Success", "Fail", "Termination", "Cancel")


def _stages(text: str) -> list[RunStage]:
    return [
        RunStage(s["code"], bool(s.get("triggered")), s.get("status"), s.get("message"))
        for s in orjson.loads(text)
    ]


def _values(run: PipelineRun) -> dict[str, Any]:
    stages = [
        {"code": s.code, "triggered": s.triggered, "status": s.status, "message": s.message}
        for s in run.stages
    ]
    return {
        "id": run.id,
        "project_id": run.project_id,
        "type": run.type,
        "object_id": run.object_id,
        "object_type": run.object_type,
        "creator": run.creator,
        "description": run.description,
        "run_mode": run.run_mode,
        "auto_until": run.auto_until,
        "stages": orjson.dumps(stages).decode(),
        "dev_package_id": run.dev_package_id,
        "prod_package_id": run.prod_package_id,
        "cancelled": run.cancelled,
        "origin": run.origin,
        "status": run.status,
        "message": run.message,
        "create_time": run.create_time,
        "modify_time": run.modify_time,
    }


# Built once: a run by id is on the path of every GetPipelineRun and every settling package
# of a run (store/hot.py); writes bind the row's values at execution.
_RUN = HotRead(select(pipeline_runs).where(pipeline_runs.c.id == bindparam("_id")))
_LOCK_RUN = HotRead(
    select(pipeline_runs).where(pipeline_runs.c.id == bindparam("_id")).with_for_update()
)
_STATE = ("id", "status", "checking_status", "hold", "error_message")


def _run_read(with_project: bool = False) -> HotRead:
    """The run and its packages' state; ``with_project``: the workspace's row first and the
    run (of that workspace only) left-joined to it, so that one statement answers both."""
    dev = packages.alias("dev_package")
    prod = packages.alias("prod_package")
    states = (
        *(dev.c[n].label(f"dev_package__{n}") for n in _STATE),
        *(prod.c[n].label(f"prod_package__{n}") for n in _STATE),
    )

    def with_states(source: FromClause) -> FromClause:
        return source.outerjoin(dev, dev.c.id == pipeline_runs.c.dev_package_id).outerjoin(
            prod, prod.c.id == pipeline_runs.c.prod_package_id
        )

    if not with_project:
        return HotRead(
            select(pipeline_runs, *states)
            .select_from(with_states(pipeline_runs))
            .where(pipeline_runs.c.id == bindparam("_id"))
        )
    run_of_project = and_(
        pipeline_runs.c.id == bindparam("_id"), pipeline_runs.c.project_id == projects.c.id
    )
    return HotRead(
        select(projects, *(c.label(f"run__{c.key}") for c in pipeline_runs.c), *states)
        .select_from(with_states(projects.outerjoin(pipeline_runs, run_of_project)))
        .where(projects.c.id == bindparam("_project"))
    )


_RUN_READ = _run_read()
_PROJECT_RUN_READ = _run_read(with_project=True)
_PROJECT_COLUMNS = tuple(c.key for c in projects.c)
_RUN_COLUMNS = tuple(c.key for c in pipeline_runs.c)
_INSERT_RUN = HotWrite(insert(pipeline_runs))
_UPDATE_RUN = HotWrite(update(pipeline_runs).where(pipeline_runs.c.id == bindparam("_id")))
_STATES = HotRead(
    select(*(packages.c[n] for n in _STATE)).where(
        or_(packages.c.id == bindparam("_dev"), packages.c.id == bindparam("_prod"))
    )
)
# status NOT IN (the final ones) spelled as literal comparisons: an expanding IN cannot be
# compiled once (store/hot.py)
_ACTIVE = HotRead(
    select(pipeline_runs).where(
        pipeline_runs.c.project_id == bindparam("_project"),
        pipeline_runs.c.object_id == bindparam("_object"),
        *(pipeline_runs.c.status != s for s in _FINAL),
    )
)


def _run(row: Row[Any] | Mapping[str, Any]) -> PipelineRun:
    m = row._mapping if isinstance(row, Row) else row
    return PipelineRun(
        id=m["id"],
        project_id=m["project_id"],
        type=m["type"],
        object_id=m["object_id"],
        object_type=m["object_type"],
        creator=m["creator"],
        description=m["description"],
        run_mode=m["run_mode"],
        auto_until=m["auto_until"],
        stages=_stages(m["stages"]),
        create_time=m["create_time"],
        modify_time=m["modify_time"],
        origin=m["origin"],
        dev_package_id=m["dev_package_id"],
        prod_package_id=m["prod_package_id"],
        cancelled=bool(m["cancelled"]),
        status=m["status"],
        message=m["message"],
    )


class _State(NamedTuple):
    """The columns of a package row a stage's status follows from (``PackageState``)."""

    status: int
    checking_status: int | None
    hold: str | None
    error_message: str | None


def _state(row: Sequence[Any]) -> _State | None:
    """``row``: a package's ``_STATE`` columns; None when the join found no package."""
    return None if row[0] is None else _State(*row[1:])


def _read_of(row: Sequence[Any]) -> RunRead:
    """``row``: the run's columns, then its development and production packages' ``_STATE``
    columns (the tail of a ``_run_read`` row)."""
    n, k = len(_RUN_COLUMNS), len(_STATE)
    run = _run(dict(zip(_RUN_COLUMNS, row[:n], strict=True)))
    return RunRead(run, _state(row[n : n + k]), _state(row[n + k :]))


class SqlRunStore:
    """Implements :class:`openworks.core.run_stages.RunStore`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_run(self, run: PipelineRun) -> None:
        _INSERT_RUN.run(self.conn, _values(run))

    def run(self, run_id: str) -> PipelineRun | None:
        rows = _RUN.dicts(self.conn, {"_id": run_id})
        return _run(rows[0]) if rows else None

    def run_read(self, run_id: str) -> RunRead | None:
        rows = _RUN_READ.rows(self.conn, {"_id": run_id})
        return _read_of(rows[0]) if rows else None

    def project_run_read(
        self, project_id: int, run_id: str
    ) -> tuple[dict[str, Any] | None, RunRead | None]:
        """The workspace's columns (None: no such workspace) and, if the run is one of
        its, the run with its packages' state: GetPipelineRun's read in one statement."""
        rows = _PROJECT_RUN_READ.rows(self.conn, {"_project": project_id, "_id": run_id})
        if not rows:
            return None, None
        row, p = rows[0], len(_PROJECT_COLUMNS)
        project = dict(zip(_PROJECT_COLUMNS, row[:p], strict=True))
        if row[p] is None:  # pipeline_runs.id: no such run in this workspace
            return project, None
        return project, _read_of(row[p:])

    def lock_run(self, run_id: str, read: PipelineRun | None = None) -> PipelineRun | None:
        if self.conn.dialect.name != "postgresql":
            if read is not None and read.id == run_id:
                return read  # SQLite: nothing can have changed it since (module docstring)
            rows = _RUN.dicts(self.conn, {"_id": run_id})
            return _run(rows[0]) if rows else None
        rows = _LOCK_RUN.dicts(self.conn, {"_id": run_id})
        return _run(rows[0]) if rows else None

    def package_states(
        self, dev_id: int | None, prod_id: int | None
    ) -> tuple[PackageState | None, PackageState | None]:
        if not dev_id and not prod_id:
            return None, None
        rows = _STATES.rows(self.conn, {"_dev": dev_id or 0, "_prod": prod_id or 0})
        found = {row[0]: _State(*row[1:]) for row in rows}
        return found.get(dev_id or 0), found.get(prod_id or 0)

    def update_run(self, run: PipelineRun) -> None:
        values = _values(run)
        values["_id"] = values.pop("id")
        _UPDATE_RUN.run(self.conn, values)

    def list_runs(
        self,
        project_id: int,
        creator: str | None,
        object_id: int | None,
        status: str | None,
        page: Page,
    ) -> tuple[list[PipelineRun], int]:
        cond = [pipeline_runs.c.project_id == project_id]
        if creator is not None:
            cond.append(pipeline_runs.c.creator == creator)
        if object_id is not None:
            cond.append(pipeline_runs.c.object_id == object_id)
        if status is not None:
            cond.append(pipeline_runs.c.status == status)
        if object_id is None:  # only counted keys: the trigger-kept counters know the total
            keys = {"status": status, "creator": creator}
            total = counted(self.conn, pipeline_run_counts, project_id, keys)
        else:
            total = self.conn.execute(
                select(func.count()).select_from(pipeline_runs).where(*cond)
            ).scalar_one()
        rows = self.conn.execute(
            select(pipeline_runs)
            .where(*cond)
            .order_by(pipeline_runs.c.create_time.desc(), pipeline_runs.c.id.desc())
            .limit(page.size)
            .offset(page.offset)
        )
        return [_run(r) for r in rows], int(total)

    def active_runs(self, project_id: int, object_id: int) -> list[PipelineRun]:
        rows = _ACTIVE.dicts(self.conn, {"_project": project_id, "_object": object_id})
        return [_run(r) for r in rows]

    def project_active_runs(self, project_id: int) -> list[PipelineRun]:
        rows = self.conn.execute(
            select(pipeline_runs)
            .where(
                pipeline_runs.c.project_id == project_id,
                pipeline_runs.c.status.not_in(_FINAL),
            )
            .order_by(pipeline_runs.c.create_time, pipeline_runs.c.id)
        )
        return [_run(r) for r in rows]
