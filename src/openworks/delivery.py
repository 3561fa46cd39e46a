"""The check loop: built-in checks, gate deadlines and webhook deliveries, in one thread.

::

    ┌─▶ run_builtin_checks ─▶ settle_due (answered / timed out) ─▶ deliver due webhooks ─┐
    └──────────── woken (a package was created or answered) or every ``interval`` ◀──────┘

A delivery is a POST of the stored JSON body with::

    Content-Type: application/json
    X-Openworks-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>
    X-Openworks-Event: <the event type>      X-Openworks-Delivery: <outbox id>

Any 2xx answer counts as delivered; anything else (refused, timeout, 4xx/5xx) is retried
with backoff (see :mod:`openworks.core.extensions`). No database transaction is open while
a request is in flight.

The connection itself resolves the URL's host and checks every address before connecting
to one of them (so DNS cannot swap in another address between check and connect): a host
that resolves to a link-local or unspecified address is not contacted, and the attempt is
recorded as failed with the reason, unless ``OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS`` is set.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import socket
import threading
import urllib.error
import urllib.request
from typing import Any

from openworks.config import env_flag
from openworks.core.checks import run_builtin_checks, settle_due, work_due
from openworks.core.context import Core
from openworks.core.extensions import (
    ALLOW_ANY_ADDRESS_ENV,
    Resolver,
    claim_deliveries,
    finish_delivery,
    refused_address,
    resolve_host,
)

__all__ = ["CheckLoop", "RefusedAddress", "post", "signature"]

log = logging.getLogger("openworks.delivery")


def signature(body: bytes, secret: str) -> str:
    """The ``X-Openworks-Signature`` header value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


class RefusedAddress(OSError):
    """The URL's host is, or resolves to, an address extensions may not reach."""


def _connector(resolve: Resolver, allow_any_address: bool) -> Any:
    """``socket.create_connection`` for one delivery: resolve, check every address, connect."""

    def connect(
        address: tuple[str, int],
        timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
        source_address: Any = None,
    ) -> socket.socket:
        host, port = address
        addresses = resolve(host)
        reason = None if allow_any_address else refused_address(host, addresses)
        if reason is not None:
            raise RefusedAddress(reason)
        error: OSError = OSError(f"{host} resolves to no address")
        for ip in addresses:  # connect to the addresses just checked, not to the name
            try:
                return socket.create_connection((ip, port), timeout, source_address)
            except OSError as err:
                error = err
        raise error

    return connect


class _Guarded(urllib.request.AbstractHTTPHandler):
    """Opens connections through ``connect`` instead of ``socket.create_connection``."""

    def __init__(self, connect: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._connect = connect

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        connect = self._connect

        class Connection(http_class):  # type: ignore[misc]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                self._create_connection = connect

        return super().do_open(Connection, req, **kwargs)


class _GuardedHTTP(_Guarded, urllib.request.HTTPHandler):
    pass


class _GuardedHTTPS(_Guarded, urllib.request.HTTPSHandler):
    pass


def _opener(resolve: Resolver, allow_any_address: bool) -> urllib.request.OpenerDirector:
    connect = _connector(resolve, allow_any_address)
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirect(),
        _GuardedHTTP(connect),
        _GuardedHTTPS(connect),
    )


def post(
    url: str,
    secret: str,
    body: str,
    delivery_id: int,
    timeout: float,
    *,
    allow_any_address: bool = False,
    resolve: Resolver = resolve_host,
) -> str | None:
    """POST one message; None when the receiver answered 2xx, else why it failed."""
    raw = body.encode()
    event_type = str(json.loads(body).get("type", ""))
    request = urllib.request.Request(
        url,
        data=raw,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "openworks-extension-delivery",
            "X-Openworks-Signature": signature(raw, secret),
            "X-Openworks-Event": event_type,
            "X-Openworks-Delivery": str(delivery_id),
        },
    )
    try:
        with _opener(resolve, allow_any_address).open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as err:
        return f"HTTP {err.code}"
    except urllib.error.URLError as err:
        if isinstance(err.reason, RefusedAddress):
            return f"Refused: {err.reason}"
        return f"{type(err).__name__}: {err}"
    except (OSError, ValueError, http.client.HTTPException) as err:
        return f"{type(err).__name__}: {err}"
    return None if 200 <= status < 300 else f"HTTP {status}"


class CheckLoop:
    def __init__(
        self,
        core: Core,
        interval: float = 0.2,
        http_timeout: float = 5.0,
        allow_any_address: bool | None = None,
    ) -> None:
        """``allow_any_address`` None: from ``OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS``."""
        self.core = core
        self.interval = interval
        self.http_timeout = http_timeout
        if allow_any_address is None:
            allow_any_address = env_flag(ALLOW_ANY_ADDRESS_ENV)
        self.allow_any_address = allow_any_address
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="openworks-checks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def deliver_due(self) -> int:
        jobs = claim_deliveries(self.core)
        for delivery, url, secret in jobs:
            error = post(
                url, secret, delivery.body, delivery.id, self.http_timeout,
                allow_any_address=self.allow_any_address,
            )  # fmt: skip
            if error is not None:
                log.info(
                    "delivery %d of %s to %s failed (attempt %d): %s",
                    delivery.id, delivery.extension_code, url, delivery.attempts + 1, error,
                )  # fmt: skip
            finish_delivery(self.core, delivery, error)
        return len(jobs)

    def tick(self) -> None:
        if not work_due(self.core):
            return
        while run_builtin_checks(self.core):
            pass
        settle_due(self.core)
        self.deliver_due()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("check loop iteration failed")
                self._stop.wait(0.5)
            self._wake.wait(self.interval)
            self._wake.clear()
