"""PostgreSQL connections: liveness without a round trip, reads without BEGIN and COMMIT.

The engine of a PostgreSQL URL (``make_engine``) pools psycopg 3 connections with these
events, which replace SQLAlchemy's ``pool_pre_ping`` (a ``SELECT 1`` on every checkout)::

    connect ─▶ SET default_transaction_read_only = on; psycopg read_only = False
               (its transactions begin "BEGIN READ WRITE"), stamp the time
    checkout ─▶ idle ≤ PING_AFTER s and nothing waiting on the socket? ─yes─▶ use it as is
                    │ no: idle long, or the server wrote (its FATAL before it hangs up)
                    ▼
                ping ─fails─▶ DisconnectionError: the pool replaces the connection
    begin ─▶ write=True: psycopg autocommit off: BEGIN READ WRITE … COMMIT as before
          └▶ write=False: autocommit on: each statement is its own read-only transaction
             (no BEGIN, no COMMIT: two round trips fewer), until a statement through
             SQLAlchemy that is not a plain SELECT turns autocommit off before it runs,
             so that it and the rest of the transaction run in one BEGIN READ WRITE
    checkin ─▶ autocommit off again, stamp the time

At READ COMMITTED (the isolation every transaction here has) each statement takes its own
snapshot, in a transaction or not, so a read transaction's statements see what they saw
before. What changes is what a statement run on the raw driver (store/hot.py) may do in a
read transaction: a write, ``FOR UPDATE`` or ``nextval`` there fails with "cannot execute
… in a read-only transaction" instead of committing on its own; such a statement belongs
in a ``write=True`` transaction.
"""

from __future__ import annotations

import select
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

__all__ = [
    "CONNECT_TIMEOUT",
    "PING_AFTER",
    "alive",
    "driver_params",
    "install",
    "needs_transaction",
    "quiet",
]

CONNECT_TIMEOUT = 10  # seconds per PostgreSQL connection attempt (libpq's connect_timeout)
PING_AFTER = 5.0  # seconds idle after which a checkout pings the server first

# A SELECT with one of these (compared in upper case) locks something until the end of
# its transaction: rows, or an advisory lock. In autocommit the lock would end with it.
_LOCKING = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE", "ADVISORY")


def driver_params(engine: Engine) -> dict[str, Any]:
    """``psycopg.connect`` keyword arguments for a connection of its own beside ``engine``'s
    pool (same server, database, user, options such as ``search_path``)."""
    _, params = engine.dialect.create_connect_args(engine.url)
    params.pop("context", None)  # SQLAlchemy's type adapters: plain text and ints here
    params.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return dict(params)


def needs_transaction(statement: str) -> bool:
    """Whether ``statement`` must run inside BEGIN … COMMIT: anything but a SELECT that
    takes no lock (an INSERT, UPDATE, DELETE, a CTE, SET LOCAL, SAVEPOINT …)."""
    if statement.lstrip()[:6].upper() != "SELECT":
        return True
    upper = statement.upper()
    return any(word in upper for word in _LOCKING)


def quiet(driver: Any) -> bool:
    """Nothing to read on an idle connection's socket: a healthy server sends nothing
    unasked (no LISTEN here); a server that ends the session writes its FATAL first,
    and a closed socket reads as end of file."""
    try:
        fd = driver.pgconn.socket
    except Exception:  # psycopg raises once the connection is closed
        return False
    poller = select.poll()  # not select.select: a descriptor above 1023 is fine here
    poller.register(fd, select.POLLIN)
    return not poller.poll(0)


def alive(driver: Any, idle_since: float | None, now: float) -> bool:
    """Whether a pooled connection can be handed out without a ping (no round trip)."""
    if driver.closed or idle_since is None or now - idle_since > PING_AFTER:
        return False
    return quiet(driver)


def install(engine: Engine) -> None:
    """Attach the events of the module docstring to a PostgreSQL engine."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a session setting, outside any transaction
        dbapi_connection.execute("SET default_transaction_read_only = on")
        dbapi_connection.autocommit = autocommit
        dbapi_connection.read_only = False  # explicit transactions: BEGIN READ WRITE
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if alive(dbapi_connection, record.info.get("idle_since"), time.monotonic()):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as err:
            raise DisconnectionError(f"the pooled connection is gone: {err}") from err

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()
        driver = dbapi_connection
        if driver is not None and not driver.closed and driver.autocommit:
            driver.autocommit = False

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        driver = connection.connection.driver_connection
        read = not connection.info.get("write", False)
        if driver.autocommit != read:
            driver.autocommit = read

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        driver = connection.connection.driver_connection
        if driver.autocommit and needs_transaction(statement):
            driver.autocommit = False  # psycopg sends BEGIN READ WRITE with it
