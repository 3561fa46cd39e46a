"""Resource bytes served by openworks itself: ``GET /resources/sha256/<hex>``.

::

    GetFile ─▶ ResourceDownloadLink.downloadLink = <public url>/resources/sha256/<hex>
                                                   ?name=<file>&expires=<unix s>&signature=<hex>
    GET that link ─ bad or expired signature ─▶ 403     (no AccessKey needed: the link is
                  ├─ unknown digest ─────────▶ 404      the credential, valid one hour)
                  ├─ bytes fail SHA-256 ─────▶ 500
                  └─ 200 application/octet-stream, the stored bytes byte for byte

The signing key is derived from the server key (store/secrets.py), so every process of a
deployment that shares the key accepts the links of the others.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.parse

import anyio.to_thread
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from openworks.config import Settings
from openworks.core import resources
from openworks.core.context import Core
from openworks.core.errors import NotFound
from openworks.core.resources import BlobCorrupt, DownloadLinks, is_digest
from openworks.store.blobs import blob_store_from

__all__ = ["download_routes", "install_blobs", "link_key"]


def link_key(server_key: bytes) -> bytes:
    return hmac.new(server_key, b"openworks resource download links", hashlib.sha256).digest()


def install_blobs(settings: Settings, engine: Engine, core: Core, server_key: bytes) -> None:
    """Give ``core`` the configured blob store and this server's link signer."""
    links = DownloadLinks(link_key(server_key), settings.base_url())
    resources.install(core, blob_store_from(settings, engine), links)


def _refuse(status: int, text: str) -> Response:
    return PlainTextResponse(text + "\n", status_code=status, headers={"cache-control": "no-store"})


def download_routes(core: Core) -> list[BaseRoute]:
    async def download(request: Request) -> Response:
        digest = request.path_params["digest"]
        q = request.query_params
        name, expires, signature = q.get("name", ""), q.get("expires", ""), q.get("signature", "")
        ports = resources.ports_of(core)
        if (
            not is_digest(digest)
            or ports.links is None
            or not ports.links.valid(digest, name, expires, signature, int(time.time()))
        ):
            return _refuse(
                403, "This download link is not valid or has expired; GetFile gives a fresh one."
            )
        try:
            data = await anyio.to_thread.run_sync(ports.blobs.get, digest)
        except NotFound:
            return _refuse(404, f"No bytes have SHA-256 {digest}.")
        except BlobCorrupt:
            return _refuse(500, f"The stored bytes of {digest} fail their SHA-256 check.")
        quoted = urllib.parse.quote(name or digest, safe="")
        headers = {
            "content-disposition": f"attachment; filename*=UTF-8''{quoted}",
            "etag": f'"{digest}"',
            "cache-control": "private, max-age=3600, immutable",
            "x-content-type-options": "nosniff",
        }
        return Response(data, media_type="application/octet-stream", headers=headers)

    return [Route("/resources/sha256/{digest}", download, methods=["GET"])]
