"""The HTTP server's own guards: how long and how much a client may send before the
application sees its request.

uvicorn (httptools) keeps a connection open for as long as its client trickles in a request
line and headers, and buffers them without a bound. :class:`GuardedHttpToolsProtocol`
adds two limits per request on a connection::

    request line + headers ≤ max_header_bytes     else 431 and close
    headers + body arrive within read_timeout s    else 408 and close (or, once the
                                                   application reads the body, it sees
                                                   the client disconnect)

Idle keep-alive connections stay uvicorn's business: ``timeout_keep_alive`` is
:data:`KEEP_ALIVE_SECONDS` (uvicorn's own 5 s races the SDKs' connection pools: a pooled
connection reused just as the server closes it fails with "connection reset"). Together
with the pipeline taking its in-flight slot only after the body arrived (server/pipeline.py),
a client that sends slowly holds only its own connection, never a share of the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "DEFAULT_MAX_HEADER_BYTES",
    "KEEP_ALIVE_SECONDS",
    "PROTOCOL",
    "GuardedHttpToolsProtocol",
    "configure",
    "on_refusal",
]

DEFAULT_MAX_HEADER_BYTES = 128 * 1024
KEEP_ALIVE_SECONDS = 60
"""How long an idle keep-alive connection stays open (common load balancers' idle timeout).
The SDKs keep one pool per endpoint for the whole process (darabonba, requests): with
uvicorn's 5 s default a call made about 5 s after the previous one could pick a connection
the server was closing at that instant and fail with "connection reset by peer"."""

_RESPONSES = {
    408: b"HTTP/1.1 408 Request Timeout\r\n",
    431: b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
}


class _HeadersTooLarge(Exception):
    """Raised from a parser callback: httptools stops and uvicorn answers (431, below)."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request deadline and a header size bound."""

    read_timeout: float = 10.0
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._in_headers = True  # reading a request line and headers
        self._header_bytes = 0  # request line and headers the parser handed over
        self._pending = 0  # bytes received while this request's headers are unfinished
        self._completed = 0  # requests fully received on this connection

    # -- connection ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_headers and self._deadline is None:
            self._arm()  # a new request on a kept-alive connection
        started_in_headers, completed = self._in_headers, self._completed
        super().data_received(data)
        # A chunk that began and ended inside one request line and headers: what the parser
        # keeps of an unfinished line is bounded too (on_url / on_header count what it
        # hands over). A chunk that began in a body, or in which a request completed, is
        # not counted: its tail may start the next request, counted from the next chunk on.
        if (
            started_in_headers
            and self._in_headers
            and completed == self._completed
            and not self.transport.is_closing()
        ):
            self._pending += len(data)
            if self._pending > self.max_header_bytes:
                self._header_bytes = self._pending
                self._refuse(431, "Request line and headers exceed the server's limit.")

    def send_400_response(self, msg: str) -> None:
        if self._header_bytes > self.max_header_bytes:  # raised by on_url / on_header
            self._refuse(431, "Request line and headers exceed the server's limit.")
        else:
            super().send_400_response(msg)

    # -- parser callbacks ------------------------------------------------------------------
    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        """Precise accounting of what the parser hands over (a chunk that completes the
        headers is not counted in data_received); past the limit the parser stops."""
        self._header_bytes += size
        if self._header_bytes > self.max_header_bytes:
            raise _HeadersTooLarge

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        if self._deadline is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = self._pending = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        # The whole request arrived in time; what follows on this connection is the next
        # request's line and headers. (Not on_response_complete: an early answer such as
        # 413 completes while the rest of the body is still arriving, and those bytes are
        # body, not headers.)
        self._disarm()
        self._in_headers = True
        self._header_bytes = self._pending = 0
        self._completed += 1
        super().on_message_complete()

    # -- the deadline ------------------------------------------------------------------------
    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._in_headers:
            # nothing of this request reached the application: answer it ourselves
            self._refuse(408, "The request did not arrive in time.")
        else:
            # the application holds the request: it sees the client disconnect
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        if _refusal_hook is not None:
            _refusal_hook(status)  # counted for /metrics (openworks.metrics)
        body = message.encode("ascii")
        self.transport.write(
            _RESPONSES[status]
            + b"content-type: text/plain; charset=utf-8\r\n"
            + b"content-length: "
            + str(len(body)).encode("ascii")
            + b"\r\nconnection: close\r\n\r\n"
            + body
        )
        self.transport.close()


PROTOCOL = "openworks.serving:GuardedHttpToolsProtocol"
"""What ``uvicorn.run(http=...)`` takes (an import string: worker processes import it)."""


_refusal_hook: Callable[[int], None] | None = None


def on_refusal(hook: Callable[[int], None] | None) -> None:
    """Call ``hook(status)`` for every 408 or 431 this process's connections answer."""
    global _refusal_hook
    _refusal_hook = hook


def configure(read_timeout: float, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> None:
    """Set this process's limits (``serve`` and each worker process call it at start)."""
    GuardedHttpToolsProtocol.read_timeout = read_timeout
    GuardedHttpToolsProtocol.max_header_bytes = max_header_bytes
