"""Alembic environment: runs on the connection handed over by ``openworks.store.db.migrate``
(or builds one from ``-x url=...`` / ``OPENWORKS_DATABASE_URL`` when run by the alembic CLI)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from openworks.store.db import make_engine
from openworks.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or os.environ["OPENWORKS_DATABASE_URL"]
    )
    engine = make_engine(url, pool=False)
    with engine.connect() as conn:
        conn.info["write"] = True
        _run(conn)
        conn.commit()
