"""Persistence: SQLAlchemy 2 schema, repositories and Alembic migrations (SQLite, PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Engine

from openworks.core import checks, cross_exec, run_trigger
from openworks.core.context import Core

from .db import default_database_url, make_engine, migrate
from .repo import SqlStore
from .secrets import SecretBox

__all__ = ["SqlStore", "default_database_url", "make_engine", "migrate", "open_core"]


def open_core(engine: Engine, box: SecretBox | None = None, *, test_control: bool = False) -> Core:
    """A :class:`Core` over ``engine`` whose lifecycle holds new packages for their checks
    and approval (:class:`openworks.core.checks.ChecksGate`, asked first) and tells
    pipeline runs and cross runs when their packages settle (the observers
    :class:`openworks.core.run_trigger.RunsGate`, :class:`openworks.core.cross_exec.CrossGate`);
    with ``test_control`` (``--control``, ``OPENWORKS_CONTROL=1``, the test kit) test
    control is installed: its gate in the lifecycle and the claim statement that waits for
    its gates. Without it, neither."""
    core = Core(SqlStore(engine, box, test_control=test_control))
    checks.install(core)  # the first gate: checks, then approval, may hold a new package
    run_trigger.install(core)  # observer: the lifecycle tells runs when their packages settle
    cross_exec.install(core)  # observer: cross-workspace runs hear their target packages
    if test_control:
        from openworks.core import test_control as control

        control.install(core)
    return core
