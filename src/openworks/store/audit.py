"""The audit trail: write one entry per state-changing call, read them back.

::

    app (after dispatch) ──record(AuditEntry)──▶ audit_log ◀──query(since, workspace)── CLI

Parameters are stored redacted: names that look secret are replaced by ``"***"`` and long
values are cut to :data:`MAX_VALUE` characters (file content can be a megabyte).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Engine, insert, or_, select

from .schema import projects
from .schema_security import audit_log

__all__ = ["MAX_VALUE", "AuditEntry", "query", "record", "redact"]

MAX_VALUE = 256
_SECRET_NAME = re.compile(r"secret|password|securitytoken|signature|credential", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    time: int
    account_id: str
    user_id: str
    access_key_id: str
    action: str
    status: int
    code: str
    request_id: str
    project_id: int | None = None
    project_identifier: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    id: int = 0


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE:
        return f"{value[:MAX_VALUE]}…[{len(value)} characters]"
    if isinstance(value, list):
        return [_clip(v) for v in value[:50]]
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_NAME.search(k) else _clip(v)) for k, v in value.items()}
    return value


def redact(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as they may be stored: no secrets, no huge values."""
    return {k: ("***" if _SECRET_NAME.search(k) else _clip(v)) for k, v in params.items()}


_INSERT = insert(audit_log)  # built once: the values travel as execution parameters


def record(engine: Engine, entry: AuditEntry) -> None:
    values = {
        "time": entry.time,
        "account_id": entry.account_id,
        "user_id": entry.user_id,
        "access_key_id": entry.access_key_id,
        "action": entry.action,
        "project_id": entry.project_id,
        "project_identifier": entry.project_identifier,
        "params": orjson.dumps(redact(entry.params), default=str).decode(),
        "status": entry.status,
        "code": entry.code,
        "request_id": entry.request_id,
    }
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(_INSERT, values)


def query(
    engine: Engine,
    account_id: str | None = None,
    since_ms: int | None = None,
    workspace: str | None = None,
    limit: int = 1000,
) -> list[AuditEntry]:
    """Entries oldest first; ``workspace`` is a workspace ID or identifier."""
    stmt = select(audit_log)
    if account_id is not None:
        stmt = stmt.where(audit_log.c.account_id == account_id)
    if since_ms is not None:
        stmt = stmt.where(audit_log.c.time >= since_ms)
    with engine.connect() as conn:
        if workspace is not None:
            ids: list[int] = []
            if workspace.isdigit():
                ids.append(int(workspace))
            found = conn.execute(
                select(projects.c.id).where(projects.c.identifier == workspace)
            ).scalar()
            if found is not None:
                ids.append(int(found))
            stmt = stmt.where(
                or_(audit_log.c.project_id.in_(ids), audit_log.c.project_identifier == workspace)
            )
        # newest `limit` entries, returned oldest first
        rows = conn.execute(stmt.order_by(audit_log.c.id.desc()).limit(limit)).all()
    entries = []
    for r in reversed(rows):
        m = r._mapping
        entries.append(
            AuditEntry(
                id=m["id"],
                time=m["time"],
                account_id=m["account_id"],
                user_id=m["user_id"],
                access_key_id=m["access_key_id"],
                action=m["action"],
                status=m["status"],
                code=m["code"],
                request_id=m["request_id"],
                project_id=m["project_id"],
                project_identifier=m["project_identifier"],
                params=orjson.loads(m["params"]),
            )
        )
    return entries
