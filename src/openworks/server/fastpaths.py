"""The API's shortcuts, decided once per process: the one seam where a fast path is chosen.

::

    FastPaths.inline_reads  SQLite only: small reads (a Get without file content or spec,
                            of either API version) run on the event loop, skipping the
                            thread hand-off (pipeline.handle)
    FastPaths.inline_auth   SQLite with nonces in memory or in the shared nonce file:
                            authentication on the loop, since it never waits on the
                            network (pipeline.authenticate)
    FastPaths.json_fields   the access log's JSON fields, built only for --log-format json
                            (pipeline.log_access; 3 µs a call otherwise spent for nothing)
    API_THREADS             threads for everything else: few, handlers are CPU-bound

Every other shortcut of the request path is named, with where it lives and what it bought,
in docs/performance.md ("Where the fast paths live"); turning one off is a change here or
at the place named there, never in the pipeline's composition.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from openworks.api import Operation
from openworks.config import Settings
from openworks.protocol import MemoryNonceCache, NonceCache
from openworks.store.db import is_sqlite

__all__ = ["API_THREADS", "FastPaths", "choose_fast_paths", "small_read"]

# Threads that run handlers that write (and every handler on PostgreSQL); few, because
# handlers are CPU-bound Python under one GIL. The database pool is sized above this.
API_THREADS = 4


@dataclass(frozen=True, slots=True)
class FastPaths:
    """Which shortcuts this process takes (see the module docstring)."""

    inline_reads: frozenset[Operation] = frozenset()  # operations run on the event loop
    inline_auth: bool = False
    json_fields: bool = False


def choose_fast_paths(
    settings: Settings, nonces: NonceCache, table: Iterable[Operation]
) -> FastPaths:
    """The shortcuts that are safe for these settings.

    SQLite reads (WAL) never wait for writers; the small ones run on the event loop,
    skipping the thread hand-off and threads racing for the GIL around every sqlite3 call
    (measured: 12 threads cost 2.7x the CPU per read of one). Lists (counts over many rows)
    and reads that carry file content go to threads like every write, so that no call can
    hold the loop for long (issue 13). Authentication runs on the loop only where it never
    waits on the network: nonces in this process's memory or in the nonce file of the
    SQLite database, keys looked up in SQLite on a cache miss.
    """
    sqlite = is_sqlite(settings.database_url)
    return FastPaths(
        inline_reads=(
            frozenset(op for op in table if small_read(op.name, op.response))
            if sqlite
            else frozenset()
        ),
        inline_auth=sqlite and _local_nonces(nonces),
        json_fields=settings.log_format == "json",
    )


def _local_nonces(nonces: NonceCache) -> bool:
    """Whether a replay check never waits on the network: this process's memory, or the
    nonce file the processes of one SQLite database map (store/nonce_file.py, a few µs)."""
    return isinstance(nonces, MemoryNonceCache) or getattr(nonces, "file", None) is not None


def _leaves(tree: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(tree, dict):
        for name, value in tree.items():
            if isinstance(value, dict | list):
                yield from _leaves(value)
            else:
                yield name, value
    elif isinstance(tree, list) and tree:
        yield from _leaves(tree[0])


def small_read(name: str, response: dict[str, Any]) -> bool:
    """A Get of bounded size: an object in its answer (``Data`` in 2020-05-18, ``Pipeline``,
    ``Project``... in 2024-05-18), no bare text ``Data``, no file content and no FlowSpec
    ``Spec`` (which carries a node's code) anywhere in it."""
    if not name.startswith("Get"):
        return False
    objects = [k for k, v in response.items() if k != "RequestId" and isinstance(v, dict | list)]
    if not objects or ("Data" in response and "Data" not in objects):
        return False
    return not any(leaf.endswith("Content") or leaf == "Spec" for leaf, _ in _leaves(response))
