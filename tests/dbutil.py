"""Fresh, isolated databases for tests: SQLite files by default, PostgreSQL schemas on demand.

Set ``OPENWORKS_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432/test`` to run the suite
against PostgreSQL: every server and every domain test then gets its own schema
(``search_path`` in the URL), created here and dropped when the test session ends, so runs
never collide.
"""

from __future__ import annotations

import atexit
import itertools
import os
import tempfile
import time
from urllib.parse import quote

__all__ = ["fresh_database_url", "postgres_base"]

_counter = itertools.count(1)
_schemas: list[str] = []


def postgres_base() -> str | None:
    return os.environ.get("OPENWORKS_TEST_POSTGRES") or None


def _admin(base: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _drop_all() -> None:
    base = postgres_base()
    if not base or not _schemas:
        return
    with _admin(base) as conn:
        for schema in _schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def fresh_database_url(tag: str = "t") -> str:
    """A URL of an empty database nobody else uses."""
    base = postgres_base()
    n = next(_counter)
    if base is None:
        directory = tempfile.mkdtemp(prefix=f"openworks-{tag}-")
        return f"sqlite:///{directory}/ow.db"
    schema = f"ow_{tag}_{os.getpid()}_{int(time.time())}_{n}".lower()
    with _admin(base) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    if not _schemas:
        atexit.register(_drop_all)
    _schemas.append(schema)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
