"""The API server: one process's service, the request pipeline, the ASGI application.

::

    service.py    Service (what a process holds) and build_service; KeyCache, nonces
    admission.py  take_slot (in-flight bound) and admit (rate limits); build_limiter
    fastpaths.py  the shortcuts this process takes, decided once (docs/performance.md)
    pipeline.py   the named steps of an API call and their composition (build_pipeline)
    asgi.py       App: "/" to the pipeline, the other routes (health, readiness, metrics,
                  console, test control) through Starlette; create_app, app_from_env
    console_mount.py  ConsoleMount: /console/… imported and routed on first use
    downloads.py  resource bytes by signed link

Layers import downward: asgi ─▶ pipeline ─▶ admission, fastpaths, service. ``openworks.app``
re-exports the public names for older imports.
"""

from __future__ import annotations

from .asgi import App, app_from_env, create_app
from .service import KeyCache, Service, build_service, make_nonce_cache

__all__ = [
    "App",
    "KeyCache",
    "Service",
    "app_from_env",
    "build_service",
    "create_app",
    "make_nonce_cache",
]
