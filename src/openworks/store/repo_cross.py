"""Repository of cross-workspace deployment (``Tx.cross()``), over ``schema_cross``.

A run's items are stored as a JSON list in its row (root first); the domain
(:mod:`openworks.core.cross_runs`) reads and writes whole runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

import orjson
from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from openworks.core.cross_model import FINAL, CrossItem, CrossRun, Environment, RunFilter
from openworks.core.model import Page

from .hot import HotRead
from .schema_cross import cross_environments, cross_object_map, cross_runs

__all__ = ["SqlCrossStore"]

_ITEM_FIELDS = {f.name for f in fields(CrossItem)}
_RUN_FIELDS = [f.name for f in fields(CrossRun) if f.name != "items"]


def _env(row: Row[Any]) -> Environment:
    m = row._mapping
    return Environment(
        id=m["id"],
        account_id=m["account_id"],
        name=m["name"],
        source_project_id=m["source_project_id"],
        target_project_id=m["target_project_id"],
        creator=m["creator"],
        create_time=m["create_time"],
        status=m["status"],
    )


def _run(row: Row[Any] | Mapping[str, Any]) -> CrossRun:
    m = row._mapping if isinstance(row, Row) else row
    items = [
        CrossItem(**{k: v for k, v in i.items() if k in _ITEM_FIELDS})
        for i in orjson.loads(m["items"])
    ]
    return CrossRun(**{name: m[name] for name in _RUN_FIELDS}, items=items)


def _values(run: CrossRun) -> dict[str, Any]:
    values = {name: getattr(run, name) for name in _RUN_FIELDS}
    values["items"] = orjson.dumps([asdict(i) for i in run.items]).decode()
    return values


_RUN = HotRead(select(cross_runs).where(cross_runs.c.id == bindparam("_id")))
_LOCK_RUN = HotRead(select(cross_runs).where(cross_runs.c.id == bindparam("_id")).with_for_update())
_INSERT_RUN = insert(cross_runs)
_UPDATE_RUN = update(cross_runs).where(cross_runs.c.id == bindparam("_id"))


class SqlCrossStore:
    """Implements :class:`openworks.core.cross_model.CrossStore`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # environments ------------------------------------------------------------------
    def insert_environment(self, env: Environment) -> int:
        values = {
            "account_id": env.account_id,
            "name": env.name,
            "source_project_id": env.source_project_id,
            "target_project_id": env.target_project_id,
            "status": env.status,
            "creator": env.creator,
            "create_time": env.create_time,
        }
        result = self.conn.execute(insert(cross_environments), values)
        env.id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return env.id

    def environment(self, env_id: int) -> Environment | None:
        t = cross_environments
        row = self.conn.execute(select(t).where(t.c.id == env_id)).first()
        return _env(row) if row else None

    def environment_by_pair(self, source_id: int, target_id: int) -> Environment | None:
        t = cross_environments
        row = self.conn.execute(
            select(t).where(t.c.source_project_id == source_id, t.c.target_project_id == target_id)
        ).first()
        return _env(row) if row else None

    def environments(self, account_id: str, source_id: int | None) -> list[Environment]:
        t = cross_environments
        cond = [t.c.account_id == account_id]
        if source_id is not None:
            cond.append(t.c.source_project_id == source_id)
        return [_env(r) for r in self.conn.execute(select(t).where(*cond).order_by(t.c.id))]

    def delete_environment(self, env_id: int) -> None:
        self.conn.execute(delete(cross_runs).where(cross_runs.c.environment_id == env_id))
        self.conn.execute(
            delete(cross_object_map).where(cross_object_map.c.environment_id == env_id)
        )
        self.conn.execute(delete(cross_environments).where(cross_environments.c.id == env_id))

    # mappings ----------------------------------------------------------------------
    def mapped(self, env_id: int, kind: str, source_id: int) -> int | None:
        t = cross_object_map
        found = self.conn.execute(
            select(t.c.target_id).where(
                t.c.environment_id == env_id, t.c.kind == kind, t.c.source_id == source_id
            )
        ).scalar()
        return int(found) if found is not None else None

    def set_mapped(self, env_id: int, kind: str, source_id: int, target_id: int) -> None:
        t = cross_object_map
        key = (t.c.environment_id == env_id, t.c.kind == kind, t.c.source_id == source_id)
        if self.mapped(env_id, kind, source_id) is None:
            self.conn.execute(
                insert(t),
                {
                    "environment_id": env_id,
                    "kind": kind,
                    "source_id": source_id,
                    "target_id": target_id,
                },
            )
        else:
            self.conn.execute(update(t).where(*key), {"target_id": target_id})

    # runs ----------------------------------------------------------------------------
    def insert_run(self, run: CrossRun) -> None:
        self.conn.execute(_INSERT_RUN, _values(run))

    def run(self, run_id: str) -> CrossRun | None:
        rows = _RUN.dicts(self.conn, {"_id": run_id})
        return _run(rows[0]) if rows else None

    def lock_run(self, run_id: str) -> CrossRun | None:
        """The run, locked on PostgreSQL. Asked for every settling package that belongs to
        a run (a pipeline run's too), hence a hot read (store/hot.py)."""
        read = _LOCK_RUN if self.conn.dialect.name == "postgresql" else _RUN
        rows = read.dicts(self.conn, {"_id": run_id})
        return _run(rows[0]) if rows else None

    def update_run(self, run: CrossRun) -> None:
        values = _values(run)
        values["_id"] = values.pop("id")
        self.conn.execute(_UPDATE_RUN, values)

    def list_runs(self, project_id: int, flt: RunFilter, page: Page) -> tuple[list[CrossRun], int]:
        t = cross_runs
        cond = [t.c.project_id == project_id]
        for column, value in (
            (t.c.environment_id, flt.environment_id),
            (t.c.creator, flt.creator),
            (t.c.executor, flt.executor),
            (t.c.object_id, flt.object_id),
            (t.c.object_type, flt.object_type),
            (t.c.status, flt.status),
        ):
            if value is not None:
                cond.append(column == value)
        if flt.create_from is not None:
            cond.append(t.c.create_time >= flt.create_from)
        if flt.create_to is not None:
            cond.append(t.c.create_time <= flt.create_to)
        total = self.conn.execute(select(func.count()).select_from(t).where(*cond)).scalar_one()
        rows = self.conn.execute(
            select(t)
            .where(*cond)
            .order_by(t.c.create_time.desc(), t.c.id.desc())
            .limit(page.size)
            .offset(page.offset)
        )
        return [_run(r) for r in rows], int(total)

    def active_runs(self, env_id: int) -> list[CrossRun]:
        t = cross_runs
        rows = self.conn.execute(
            select(t).where(t.c.environment_id == env_id, t.c.status.not_in(sorted(FINAL)))
        )
        return [_run(r) for r in rows]
