"""The server's former home, kept for imports: everything now lives in :mod:`openworks.server`
(the service in server/service.py, the request pipeline as named steps in
server/pipeline.py, the ASGI application in server/asgi.py).

``openworks.app:app_from_env`` stays a valid ASGI factory string.
"""

from __future__ import annotations

from openworks.server import (
    App,
    KeyCache,
    Service,
    app_from_env,
    build_service,
    create_app,
    make_nonce_cache,
)
from openworks.server.fastpaths import API_THREADS

__all__ = [
    "API_THREADS",
    "App",
    "KeyCache",
    "Service",
    "app_from_env",
    "build_service",
    "create_app",
    "make_nonce_cache",
]
