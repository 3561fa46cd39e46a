"""Start-up without the cyclic garbage collector.

Importing a command and building a server allocates some hundred thousand objects that live
as long as the process (modules, classes, SQLAlchemy's tables, the operation tables). With
the collector on, those allocations trigger some 160 collections that walk the growing heap
again and again (about 50 ms of a ``serve`` start), and free next to nothing: start-up makes
under a thousand objects of cyclic garbage. :func:`collector_paused` turns the collector off
for a block and restores its previous state after; with ``freeze`` it then moves every
object alive to the permanent generation (:func:`gc.freeze`), as the server's lifespan does
(server/asgi.py), so that the collections that follow never walk the start-up objects again
(the little start-up garbage stays).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """The block runs with the cyclic garbage collector off; then its previous state is
    restored, after :func:`gc.freeze` with ``freeze``."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
