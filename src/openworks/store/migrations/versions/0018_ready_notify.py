"""PostgreSQL: a package made ready anywhere wakes the workers of every process.

::

    packages ──AFTER INSERT OR UPDATE OF status, hold, row READY (status 0) and unheld──▶
        pg_notify('openworks_ready', current_schema())   (sent at commit, once per
                                                          transaction and schema)
    store/pg_wake.py ReadyListener: LISTEN openworks_ready ─▶ the worker's wake-up

Before this, a worker learned of a package created in another process (another
``serve --workers N`` process, ``openworks worker`` beside ``serve --no-worker``) only at
its next idle poll. The condition is the worker's claim (status 0, ``hold`` NULL), so a
package released from its checks (``hold`` cleared) wakes the workers too. The payload is
the schema, so that servers sharing one database in separate schemas ignore each other.
SQLite has no counterpart (its worker lives in the process that makes its packages).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

CHANNEL = "openworks_ready"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION ow_notify_ready() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"PERFORM pg_notify('{CHANNEL}', current_schema()); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER packages_ready AFTER INSERT OR UPDATE OF status, hold ON packages "
        "FOR EACH ROW WHEN (NEW.status = 0 AND NEW.hold IS NULL) "
        "EXECUTE FUNCTION ow_notify_ready()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS packages_ready ON packages")
    op.execute("DROP FUNCTION IF EXISTS ow_notify_ready()")
