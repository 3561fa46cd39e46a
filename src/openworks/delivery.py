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
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.request

from openworks.core.checks import run_builtin_checks, settle_due
from openworks.core.context import Core
from openworks.core.extensions import claim_deliveries, finish_delivery

__all__ = ["CheckLoop", "post", "signature"]

log = logging.getLogger("openworks.delivery")


def signature(body: bytes, secret: str) -> str:
    """The ``X-Openworks-Signature`` header value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def post(url: str, secret: str, body: str, delivery_id: int, timeout: float) -> str | None:
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
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as err:
        return f"HTTP {err.code}"
    except (OSError, ValueError) as err:
        return f"{type(err).__name__}: {err}"
    return None if 200 <= status < 300 else f"HTTP {status}"


class CheckLoop:
    def __init__(self, core: Core, interval: float = 0.2, http_timeout: float = 5.0) -> None:
        self.core = core
        self.interval = interval
        self.http_timeout = http_timeout
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
            error = post(url, secret, delivery.body, delivery.id, self.http_timeout)
            if error is not None:
                log.info(
                    "delivery %d of %s to %s failed (attempt %d): %s",
                    delivery.id, delivery.extension_code, url, delivery.attempts + 1, error,
                )  # fmt: skip
            finish_delivery(self.core, delivery, error)
        return len(jobs)

    def tick(self) -> None:
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
