"""SQL side of :class:`openworks.core.ports.ControlStore` (tables in ``schema_test_control``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, delete, exists, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from openworks.core.model import PackageStatus
from openworks.core.ports import ControlState

from .schema import packages
from .schema_test_control import control_gates, control_state

__all__ = ["SqlControlStore", "not_gated"]


def not_gated(now: ColumnElement[Any]) -> ColumnElement[bool]:
    """WHERE clause for ``packages``: no control gate keeps the package waiting at ``now``."""
    blocking = select(control_gates.c.package_id).where(
        control_gates.c.package_id == packages.c.id,
        or_(control_gates.c.run_after.is_(None), control_gates.c.run_after > now),
    )
    return ~exists(blocking)


# run around every package: built once
_STATE = select(control_state).where(control_state.c.id == 1)
_TAKE_FAILURE = (
    update(control_state)
    .where(control_state.c.id == 1, control_state.c.fail_remaining > 0)
    .values(fail_remaining=control_state.c.fail_remaining - 1)
)


class SqlControlStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def state(self) -> ControlState:
        row = self.conn.execute(_STATE).first()
        if row is None:
            return ControlState()
        m = row._mapping
        return ControlState(
            mode=m["mode"],
            delay_ms=int(m["delay_ms"]),
            fail_remaining=int(m["fail_remaining"]),
            fail_message=m["fail_message"],
            fail_item_status=int(m["fail_item_status"]),
            seed=int(m["seed"]),
        )

    def save_state(self, state: ControlState) -> None:
        values = {
            "mode": state.mode,
            "delay_ms": state.delay_ms,
            "fail_remaining": state.fail_remaining,
            "fail_message": state.fail_message,
            "fail_item_status": state.fail_item_status,
            "seed": state.seed,
        }
        done = self.conn.execute(
            update(control_state).where(control_state.c.id == 1).values(values)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(control_state).values(id=1, **values))

    def take_failure(self) -> ControlState | None:
        done = self.conn.execute(_TAKE_FAILURE)
        return self.state() if done.rowcount == 1 else None

    def add_gate(self, package_id: int, kind: str, run_after: int | None) -> None:
        self.conn.execute(
            insert(control_gates).values(package_id=package_id, kind=kind, run_after=run_after)
        )

    def gated(self, package_id: int | None) -> list[int]:
        stmt = select(control_gates.c.package_id).where(
            and_(
                control_gates.c.package_id == packages.c.id,
                packages.c.status == PackageStatus.READY,
            )
        )
        if package_id is not None:
            stmt = stmt.where(control_gates.c.package_id == package_id)
        rows = self.conn.execute(stmt.order_by(control_gates.c.package_id)).scalars()
        return [int(i) for i in rows]

    def remove_gates(self, package_ids: list[int]) -> None:
        if package_ids:
            self.conn.execute(
                delete(control_gates).where(control_gates.c.package_id.in_(package_ids))
            )
