"""Repository for checks, extensions, settings and the outbox (``Tx.checks()``).

Implements :class:`openworks.core.check_ports.CheckStore` on the connection of the
surrounding :class:`~openworks.store.repo.SqlTx`, so every call joins its transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, exists, func, insert, select, update

from openworks.core.check_ports import CheckEvent, CheckRun, Delivery, Extension, ProcessFilter
from openworks.core.ports import Page

from .hot import HotRead
from .schema import users
from .schema_checks import (
    check_events,
    check_runs,
    extension_workspaces,
    extensions,
    outbox,
    workspace_settings,
)
from .secrets import PREFIX as SEALED
from .secrets import SecretBox

__all__ = ["SqlCheckStore"]

_EVENT_ATTRS = (
    "message_id",
    "package_id",
    "project_id",
    "account_id",
    "event_code",
    "file_id",
    "file_version",
    "operator",
    "process_name",
    "create_time",
    "deadline",
    "open",
)
_RUN_ATTRS = (
    "event_id",
    "package_id",
    "kind",
    "name",
    "spec",
    "checker_instance_id",
    "status",
    "message",
    "finish_time",
)
_DELIVERY_ATTRS = (
    "run_id",
    "account_id",
    "extension_code",
    "body",
    "state",
    "attempts",
    "next_attempt",
    "last_error",
    "create_time",
)


def _event(row: Row[Any] | Mapping[str, Any]) -> CheckEvent:
    m = row._mapping if isinstance(row, Row) else row
    values = {a: m[a] for a in _EVENT_ATTRS}
    values["open"] = bool(values["open"])
    return CheckEvent(id=m["id"], **values)


def _run(row: Row[Any] | Mapping[str, Any]) -> CheckRun:
    m = row._mapping if isinstance(row, Row) else row
    return CheckRun(id=m["id"], **{a: m[a] for a in _RUN_ATTRS})


def _delivery(row: Row[Any]) -> Delivery:
    m = row._mapping
    return Delivery(id=m["id"], **{a: m[a] for a in _DELIVERY_ATTRS})


def _bound(account_id: str, code: str) -> str:
    return f"extension:{account_id}:{code}"


# Statements the check loop and package creation run all the time: built once, values bound
# at execution.
_SETTINGS = HotRead(
    select(workspace_settings.c.key, workspace_settings.c.value).where(
        workspace_settings.c.project_id == bindparam("_project_id")
    )
)
_EVENTS_OF_PACKAGE = HotRead(
    select(check_events)
    .where(check_events.c.package_id == bindparam("_package_id"))
    .order_by(check_events.c.id)
)
_RUNS_OF_PACKAGE = HotRead(
    select(check_runs)
    .where(check_runs.c.package_id == bindparam("_package_id"))
    .order_by(check_runs.c.id)
)
_EXTENSIONS_OF = HotRead(
    select(extensions)
    .where(extensions.c.account_id == bindparam("_account_id"))
    .order_by(extensions.c.code)
)
_OPEN_PACKAGE_IDS = (
    select(check_events.c.package_id)
    .where(check_events.c.open.is_(True))
    .distinct()
    .order_by(check_events.c.package_id)
)
_PENDING_BUILTIN = (
    select(check_runs)
    .where(check_runs.c.kind == "builtin", check_runs.c.status == "CHECKING")
    .order_by(check_runs.c.id)
    .limit(bindparam("_limit"))
)
_PENDING_BUILTIN_LOCKED = _PENDING_BUILTIN.with_for_update(skip_locked=True)
_DUE = (
    select(outbox)
    .where(outbox.c.state == "PENDING", outbox.c.next_attempt <= bindparam("_now"))
    .order_by(outbox.c.next_attempt, outbox.c.id)
    .limit(bindparam("_limit"))
)
_DUE_LOCKED = _DUE.with_for_update(skip_locked=True)
# The check loop's first question on every wake-up, answered from the three partial
# indexes at once (ix_check_events_open, ix_check_runs_pending, ix_outbox_due).
_WORK_DUE = HotRead(
    select(
        exists().where(check_events.c.open.is_(True)),
        exists().where(check_runs.c.kind == "builtin", check_runs.c.status == "CHECKING"),
        exists().where(outbox.c.state == "PENDING", outbox.c.next_attempt <= bindparam("_now")),
    )
)


class SqlCheckStore:
    """Implements :class:`openworks.core.check_ports.CheckStore`."""

    def __init__(self, conn: Connection, box: SecretBox | None = None) -> None:
        self.conn = conn
        self.box = box

    def _seal(self, extension: Extension) -> str:
        """Extension signing secrets are sealed at rest like AccessKey secrets (a copy of
        the database alone must not let anyone forge webhook deliveries)."""
        if self.box is None:
            return extension.secret
        return self.box.seal(extension.secret, _bound(extension.account_id, extension.code))

    def _open(self, account_id: str, code: str, value: str) -> str:
        if self.box is None or not value.startswith(SEALED):
            return value
        return self.box.open(value, _bound(account_id, code))

    # workspace settings ---------------------------------------------------------------
    def settings(self, project_id: int) -> dict[str, str]:
        return dict(_SETTINGS.rows(self.conn, {"_project_id": project_id}))

    def set_setting(self, project_id: int, key: str, value: str | None) -> None:
        self.conn.execute(
            delete(workspace_settings).where(
                workspace_settings.c.project_id == project_id, workspace_settings.c.key == key
            )
        )
        if value is not None:
            self.conn.execute(
                insert(workspace_settings).values(project_id=project_id, key=key, value=value)
            )

    # extensions -----------------------------------------------------------------------
    def _extension(self, row: Row[Any] | Mapping[str, Any]) -> Extension:
        m = row._mapping if isinstance(row, Row) else row
        bound = select(extension_workspaces.c.project_id).where(
            extension_workspaces.c.account_id == m["account_id"],
            extension_workspaces.c.code == m["code"],
        )
        return Extension(
            account_id=m["account_id"],
            code=m["code"],
            name=m["name"],
            events=[e for e in m["events"].split(",") if e],
            url=m["url"],
            secret=self._open(m["account_id"], m["code"], m["secret"]),
            owner=m["owner"],
            create_time=m["create_time"],
            description=m["description"],
            status=m["status"],
            project_ids=sorted(int(p) for p in self.conn.execute(bound).scalars()),
        )

    def extension(self, account_id: str, code: str) -> Extension | None:
        row = self.conn.execute(
            select(extensions).where(
                extensions.c.account_id == account_id, extensions.c.code == code
            )
        ).first()
        return self._extension(row) if row else None

    def insert_extension(self, extension: Extension) -> None:
        self.conn.execute(
            insert(extensions).values(
                account_id=extension.account_id,
                code=extension.code,
                name=extension.name,
                description=extension.description,
                events=",".join(extension.events),
                url=extension.url,
                secret=self._seal(extension),
                status=extension.status,
                owner=extension.owner,
                create_time=extension.create_time,
            )
        )
        if extension.project_ids:
            self.conn.execute(
                insert(extension_workspaces),
                [
                    {"account_id": extension.account_id, "code": extension.code, "project_id": p}
                    for p in extension.project_ids
                ],
            )

    def delete_extension(self, account_id: str, code: str) -> bool:
        self.conn.execute(
            delete(extension_workspaces).where(
                extension_workspaces.c.account_id == account_id,
                extension_workspaces.c.code == code,
            )
        )
        result = self.conn.execute(
            delete(extensions).where(
                extensions.c.account_id == account_id, extensions.c.code == code
            )
        )
        return bool(result.rowcount)

    def list_extensions(self, account_id: str, page: Page) -> tuple[list[Extension], int]:
        where = extensions.c.account_id == account_id
        total = self.conn.execute(
            select(func.count()).select_from(extensions).where(where)
        ).scalar_one()
        stmt = (
            select(extensions)
            .where(where)
            .order_by(extensions.c.code)
            .limit(page.size)
            .offset(page.offset)
        )
        return [self._extension(r) for r in self.conn.execute(stmt)], int(total)

    def extensions_for(self, account_id: str, project_id: int, event_code: str) -> list[Extension]:
        rows = _EXTENSIONS_OF.dicts(self.conn, {"_account_id": account_id})
        found = [self._extension(r) for r in rows]
        return [
            e
            for e in found
            if event_code in e.events and (not e.project_ids or project_id in e.project_ids)
        ]

    # events and runs ------------------------------------------------------------------
    def insert_event(self, event: CheckEvent) -> int:
        values = {a: getattr(event, a) for a in _EVENT_ATTRS}
        result = self.conn.execute(insert(check_events).values(values).returning(check_events.c.id))
        event.id = int(result.scalar_one())
        return event.id

    def event_by_message(self, message_id: str) -> CheckEvent | None:
        row = self.conn.execute(
            select(check_events).where(check_events.c.message_id == message_id)
        ).first()
        return _event(row) if row else None

    def events_for_package(self, package_id: int) -> list[CheckEvent]:
        return [_event(r) for r in _EVENTS_OF_PACKAGE.dicts(self.conn, {"_package_id": package_id})]

    def close_events(self, package_id: int) -> None:
        self.conn.execute(
            update(check_events).where(check_events.c.package_id == package_id).values(open=False)
        )

    def open_package_ids(self) -> list[int]:
        return [int(p) for p in self.conn.execute(_OPEN_PACKAGE_IDS).scalars()]

    def insert_run(self, run: CheckRun) -> int:
        values = {a: getattr(run, a) for a in _RUN_ATTRS}
        result = self.conn.execute(insert(check_runs).values(values).returning(check_runs.c.id))
        run.id = int(result.scalar_one())
        return run.id

    def finish_run(self, run: CheckRun) -> bool:
        done = self.conn.execute(
            update(check_runs)
            .where(check_runs.c.id == run.id, check_runs.c.status == "CHECKING")
            .values(status=str(run.status), message=run.message, finish_time=run.finish_time)
        )
        return done.rowcount == 1

    def run(self, run_id: int) -> CheckRun | None:
        row = self.conn.execute(select(check_runs).where(check_runs.c.id == run_id)).first()
        return _run(row) if row else None

    def run_by_instance(self, checker_instance_id: str) -> CheckRun | None:
        row = self.conn.execute(
            select(check_runs).where(check_runs.c.checker_instance_id == checker_instance_id)
        ).first()
        return _run(row) if row else None

    def runs_for_event(self, event_id: int) -> list[CheckRun]:
        stmt = select(check_runs).where(check_runs.c.event_id == event_id)
        return [_run(r) for r in self.conn.execute(stmt.order_by(check_runs.c.id))]

    def runs_for_package(self, package_id: int) -> list[CheckRun]:
        return [_run(r) for r in _RUNS_OF_PACKAGE.dicts(self.conn, {"_package_id": package_id})]

    def work_due(self, now: int) -> bool:
        return any(_WORK_DUE.rows(self.conn, {"_now": now})[0])

    def pending_builtin_runs(self, limit: int) -> list[CheckRun]:
        locking = self.conn.dialect.name == "postgresql"
        stmt = _PENDING_BUILTIN_LOCKED if locking else _PENDING_BUILTIN
        return [_run(r) for r in self.conn.execute(stmt, {"_limit": limit})]

    def list_events(
        self, project_id: int, flt: ProcessFilter
    ) -> list[tuple[CheckEvent, list[CheckRun]]]:
        cond = [
            check_events.c.project_id == project_id,
            check_events.c.event_code == flt.event_code,
        ]
        if flt.message_id:
            cond.append(check_events.c.message_id == flt.message_id)
        if flt.operator:
            cond.append(check_events.c.operator == flt.operator)
        stmt = select(check_events).where(*cond).order_by(check_events.c.id.desc())
        events = [_event(r) for r in self.conn.execute(stmt)]
        return [(e, self.runs_for_event(e.id)) for e in events]

    # webhook outbox -------------------------------------------------------------------
    def insert_delivery(self, delivery: Delivery) -> int:
        values = {a: getattr(delivery, a) for a in _DELIVERY_ATTRS}
        result = self.conn.execute(insert(outbox).values(values).returning(outbox.c.id))
        delivery.id = int(result.scalar_one())
        return delivery.id

    def due_deliveries(self, now: int, limit: int) -> list[Delivery]:
        stmt = _DUE_LOCKED if self.conn.dialect.name == "postgresql" else _DUE
        return [_delivery(r) for r in self.conn.execute(stmt, {"_now": now, "_limit": limit})]

    def update_delivery(self, delivery: Delivery) -> None:
        self.conn.execute(
            update(outbox)
            .where(outbox.c.id == delivery.id)
            .values(
                state=delivery.state,
                attempts=delivery.attempts,
                next_attempt=delivery.next_attempt,
                last_error=delivery.last_error,
            )
        )

    # people ---------------------------------------------------------------------------
    def user_id_by_name(self, account_id: str, name: str) -> str | None:
        stmt = select(users.c.id).where(users.c.account_id == account_id, users.c.name == name)
        return self.conn.execute(stmt).scalar()
