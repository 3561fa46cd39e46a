"""What ``GET /metrics`` shows (the Prometheus text format) and who may read it.

Counted by the pipeline (server/pipeline.py) as calls end, a few µs a call::

    openworks_api_requests_total{action,code,status}      every answered API call
    openworks_api_request_duration_seconds{action}        histogram, seconds
    openworks_api_throttled_total{code}                   429s: Throttling.User, .Api, .System
    openworks_http_refusals_total{reason}                 answered before the pipeline: 431
                                                          header_too_large, 408 request_timeout;
                                                          body_disconnected (client gone, or its
                                                          deadline closed it, mid-body)
    openworks_audit_write_failures_total                  audit inserts that failed
    openworks_audit_rows_lost_total                       audit rows not written at all

Read from the database when scraped (one snapshot a second at most, each query bounded by
:data:`QUERY_TIMEOUT`; the same in every process, since they share the database)::

    openworks_packages{status}                  ready, success, failed, rejected
    openworks_package_queue_depth               READY, not held: waiting for a worker
    openworks_packages_waiting{reason}          READY, held for checks or approval
    openworks_check_runs{kind,status}           builtin or extension; checking, ok, warn, fail
    openworks_check_deliveries{state}           extension webhooks: pending/delivered/abandoned
    openworks_check_deliveries_retrying         pending after at least one failed attempt
    openworks_check_delivery_failures_total     failed delivery attempts (every row's
                                                attempts, less the delivered ones' last)
    openworks_metrics_database_up               1 if that snapshot could be read, else 0

Labels are bounded: ``action`` is an operation of the table, ``-`` (no Action) or
``unknown`` (any other name: a client cannot create series); ``code`` comes from the
server's own error codes (past :data:`MAX_SERIES` label sets a new one is counted as
``other``); database values outside the known sets are ``other``.

Several processes (``serve --workers N``) share one port, so a scrape reaches any one of
them: ``serve`` then points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory
(:func:`prepare_multiprocess`), every process writes its counters there, and whichever
answers a scrape sums them all (prometheus_client's multiprocess mode). See docs/deploy.md,
"Monitoring".
"""

from __future__ import annotations

import atexit
import hmac
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from openworks.config import ConfigError, Settings, is_loopback
from openworks.presenters.labels import PACKAGE_STATUS_NAME
from openworks.store.audit import audit_failures, audit_rows_lost

__all__ = [
    "EXPOSURES",
    "MIN_TOKEN_LENGTH",
    "MULTIPROC_ENV",
    "ApiMetrics",
    "DatabaseGauges",
    "Exporter",
    "describe_exposure",
    "exposure",
    "prepare_multiprocess",
]

log = logging.getLogger("openworks.metrics")

EXPOSURES = ("auto", "open", "token", "off")
MIN_TOKEN_LENGTH = 16
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MAX_SERIES = 4096  # (action, code, status) label sets before new codes become "other"
QUERY_TIMEOUT = 2.0  # seconds for the database snapshot
SNAPSHOT_TTL = 1.0  # seconds a snapshot is reused
# Seconds; the API answers most calls in well under a millisecond.
BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
NO_ACTION, UNKNOWN_ACTION, OTHER = "-", "unknown", "other"


# -- who may read /metrics ----------------------------------------------------------------


def exposure(settings: Settings) -> str:
    """``open``, ``token`` or ``off``: what ``settings.metrics`` means for this server.

    ``auto`` (the default) is ``token`` when a token is set, else ``open`` on a loopback
    address and ``off`` on any other. Raises :class:`ConfigError` for an unknown mode or a
    missing or short token.
    """
    mode = settings.metrics
    if mode not in EXPOSURES:
        raise ConfigError(f"Unknown --metrics {mode!r}: use auto, open, token or off.")
    token = settings.metrics_token or ""
    if mode == "auto":
        mode = "token" if token else "open" if is_loopback(settings.host) else "off"
    if mode == "token" and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"--metrics token needs OPENWORKS_METRICS_TOKEN of at least {MIN_TOKEN_LENGTH} "
            "characters (a bearer token for the scraper)."
        )
    return mode


def describe_exposure(settings: Settings) -> str:
    """One line for ``serve``'s start-up summary."""
    mode = exposure(settings)
    if mode == "off":
        return "metrics off (GET /metrics answers 404; --metrics open|token to serve it)"
    if mode == "token":
        return "metrics at /metrics (bearer token OPENWORKS_METRICS_TOKEN)"
    note = "" if is_loopback(settings.host) else ", open to anyone who reaches this port"
    return f"metrics at /metrics{note}"


def prepare_multiprocess() -> str:
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` for the API processes ``serve`` starts next,
    removed when ``serve`` exits. Counters of a previous run must not be added in, so an
    inherited value is replaced, never reused."""
    path = tempfile.mkdtemp(prefix="openworks-metrics-")
    os.environ[MULTIPROC_ENV] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


# -- counted by the pipeline ---------------------------------------------------------------


class ApiMetrics:
    """The counters and the histogram the pipeline updates; label children bound once."""

    def __init__(self, registry: CollectorRegistry, actions: Iterable[str]) -> None:
        self.requests = Counter(
            "openworks_api_requests",
            "API calls answered, by operation, error code (OK on success) and HTTP status.",
            ["action", "code", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "openworks_api_request_duration_seconds",
            "Seconds from the first byte of the body read to the answer, by operation.",
            ["action"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.throttled = Counter(
            "openworks_api_throttled",
            "API calls answered 429, by throttling code.",
            ["code"],
            registry=registry,
        )
        self.refusals = Counter(
            "openworks_http_refusals",
            "Requests refused or abandoned before an answer: header_too_large (431), "
            "request_timeout (408 before the body), body_disconnected (gone mid-body).",
            ["reason"],
            registry=registry,
        )
        self.audit_failures = Counter(
            "openworks_audit_write_failures",
            "Audit inserts that failed (a reduced row was written instead, or the row lost).",
            registry=registry,
        )
        self.audit_lost = Counter(
            "openworks_audit_rows_lost",
            "Audit rows that could not be written at all.",
            registry=registry,
        )
        self._known = frozenset(actions) | {NO_ACTION}
        self._counts: dict[tuple[str, str, int], Any] = {}
        self._latencies: dict[str, Any] = {}
        self._throttled: dict[str, Any] = {}
        self._refusals: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._audit_seen = (0, 0)

    def label(self, action: str) -> str:
        """The ``action`` label: the operation, ``-`` or ``unknown``."""
        return action if action in self._known else UNKNOWN_ACTION

    def observe(self, action: str, code: str, status: int, seconds: float) -> None:
        """One answered call (``action`` as the client named it)."""
        if action not in self._known:
            action = UNKNOWN_ACTION
        key = (action, code, status)
        counter = self._counts.get(key)
        if counter is None:
            counter = self._bind(key)
        counter.inc()
        latency = self._latencies.get(action)
        if latency is None:
            latency = self._latencies[action] = self.latency.labels(action)
        latency.observe(seconds)
        if status == 429:
            throttled = self._throttled.get(code)
            if throttled is None:
                if len(self._throttled) < 64:
                    throttled = self._throttled[code] = self.throttled.labels(code)
                else:
                    throttled = self.throttled.labels(OTHER)
            throttled.inc()

    def _bind(self, key: tuple[str, str, int]) -> Any:
        action, code, status = key
        with self._lock:
            if len(self._counts) < MAX_SERIES:
                child = self._counts[key] = self.requests.labels(action, code, str(status))
                return child
        return self.requests.labels(action, OTHER, str(status))  # not remembered: bounded

    def refused(self, reason: str) -> None:
        child = self._refusals.get(reason)
        if child is None:
            child = self._refusals[reason] = self.refusals.labels(reason)
        child.inc()

    def refused_status(self, status: int) -> None:
        """The HTTP layer's refusals (serving.py): 431 and 408."""
        self.refused("header_too_large" if status == 431 else "request_timeout")

    def sync_audit(self) -> None:
        """Carry this process's audit failure counts (store/audit.py) into the counters."""
        failures, lost = audit_failures(), audit_rows_lost()
        if (failures, lost) == self._audit_seen:
            return
        with self._lock:
            seen_failures, seen_lost = self._audit_seen
            if failures > seen_failures:
                self.audit_failures.inc(failures - seen_failures)
            if lost > seen_lost:
                self.audit_lost.inc(lost - seen_lost)
            self._audit_seen = (max(failures, seen_failures), max(lost, seen_lost))


# -- read from the database when scraped ---------------------------------------------------

_PACKAGE_STATUS = {code: name.lower() for code, name in PACKAGE_STATUS_NAME.items()}
_HOLDS = ("checks", "approval")
_RUN_KINDS = ("builtin", "extension")
_RUN_STATUS = ("CHECKING", "OK", "WARN", "FAIL")
_DELIVERY_STATES = ("PENDING", "DELIVERED", "ABANDONED")
_PACKAGES = text("SELECT status, hold, COUNT(*) FROM packages GROUP BY status, hold")
_RUNS = text("SELECT kind, status, COUNT(*) FROM check_runs GROUP BY kind, status")
_DELIVERIES = text(
    "SELECT state, COUNT(*), COALESCE(SUM(attempts), 0), "
    "COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) FROM outbox GROUP BY state"
)


@dataclass
class Snapshot:
    packages: dict[str, int] = field(default_factory=dict)
    queue_depth: int = 0
    waiting: dict[str, int] = field(default_factory=dict)
    runs: dict[tuple[str, str], int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    retrying: int = 0
    failed_attempts: int = 0


def _add(into: dict[Any, int], key: Any, count: int) -> None:
    into[key] = into.get(key, 0) + count


def read_snapshot(engine: Engine, timeout: float = QUERY_TIMEOUT) -> Snapshot:
    """Three GROUP BY queries in one read transaction, each stopped past ``timeout``
    (PostgreSQL: ``statement_timeout``; SQLite: a progress handler that interrupts)."""
    snap = Snapshot(
        packages=dict.fromkeys(_PACKAGE_STATUS.values(), 0),
        waiting=dict.fromkeys(_HOLDS, 0),
        runs={(k, s.lower()): 0 for k in _RUN_KINDS for s in _RUN_STATUS},
        deliveries={s.lower(): 0 for s in _DELIVERY_STATES},
    )
    sqlite = engine.dialect.name == "sqlite"
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        if sqlite:
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        else:
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
        try:
            for status, hold, count in conn.execute(_PACKAGES):
                name = _PACKAGE_STATUS.get(int(status), OTHER)
                _add(snap.packages, name, int(count))
                if name == "ready" and hold is None:
                    snap.queue_depth += int(count)
                elif name == "ready":
                    _add(snap.waiting, hold if hold in _HOLDS else OTHER, int(count))
            for kind, status, count in conn.execute(_RUNS):
                kind = kind if kind in _RUN_KINDS else OTHER
                status = status.lower() if status in _RUN_STATUS else OTHER
                _add(snap.runs, (kind, status), int(count))
            for state, count, attempts, retried in conn.execute(_DELIVERIES):
                name = state.lower() if state in _DELIVERY_STATES else OTHER
                _add(snap.deliveries, name, int(count))
                snap.failed_attempts += int(attempts) - (int(count) if name == "delivered" else 0)
                if name == "pending":
                    snap.retrying += int(retried)
        finally:
            if sqlite:
                raw.set_progress_handler(None, 0)
            conn.rollback()
    return snap


class DatabaseGauges(Collector):
    """The snapshot's metrics; :meth:`refresh` (async, off the event loop) renews it."""

    def __init__(
        self, engine: Engine, ttl: float = SNAPSHOT_TTL, timeout: float = QUERY_TIMEOUT
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.timeout = timeout
        self._snapshot: Snapshot | None = None
        self._taken = -1e9
        self._querying = False  # a query's thread has not returned (even if abandoned)
        self._lock = threading.Lock()
        self._up = True

    def _read(self) -> Snapshot:
        try:
            return read_snapshot(self.engine, self.timeout)
        finally:
            with self._lock:
                self._querying = False

    async def refresh(self) -> None:
        if time.monotonic() - self._taken < self.ttl:
            return
        with self._lock:
            busy, self._querying = self._querying, True
        if busy:  # one query at a time, even one given up on: this scrape shows the last
            return  # snapshot (or, if that query timed out, the database as down)
        try:
            with anyio.fail_after(self.timeout + 0.5):
                snap = await anyio.to_thread.run_sync(self._read, abandon_on_cancel=True)
        except Exception as err:
            self._snapshot = None
            if self._up:  # one line when it starts failing, one when it recovers
                log.warning("metrics: database snapshot failed: %s", _one_line(err))
            self._up = False
        else:
            self._snapshot = snap
            if not self._up:
                log.info("metrics: database snapshot readable again")
            self._up = True
        self._taken = time.monotonic()

    def collect(self) -> Iterable[Metric]:
        snap = self._snapshot
        yield GaugeMetricFamily(
            "openworks_metrics_database_up",
            "1 if the last database snapshot for these metrics could be read, else 0.",
            value=1 if snap is not None else 0,
        )
        if snap is None:
            return
        yield _by_label(
            "openworks_packages", "Deployment packages by status.", ["status"], snap.packages
        )
        yield GaugeMetricFamily(
            "openworks_package_queue_depth",
            "READY packages not held by checks or approval: waiting for a worker.",
            value=snap.queue_depth,
        )
        yield _by_label(
            "openworks_packages_waiting",
            "READY packages held, by reason (checks, approval).",
            ["reason"],
            snap.waiting,
        )
        yield _by_label(
            "openworks_check_runs",
            "Pre-deployment check runs by kind (builtin, extension) and status.",
            ["kind", "status"],
            snap.runs,
        )
        yield _by_label(
            "openworks_check_deliveries",
            "Extension webhook deliveries by state (pending, delivered, abandoned).",
            ["state"],
            snap.deliveries,
        )
        yield GaugeMetricFamily(
            "openworks_check_deliveries_retrying",
            "Pending webhook deliveries whose last attempt failed (retried with backoff).",
            value=snap.retrying,
        )
        yield CounterMetricFamily(
            "openworks_check_delivery_failures",
            "Failed webhook delivery attempts (refused, timed out, non-2xx).",
            value=snap.failed_attempts,
        )


def _by_label(
    name: str, documentation: str, labels: list[str], counts: Mapping[Any, int]
) -> GaugeMetricFamily:
    """A gauge with one sample per key of ``counts`` (a label value, or a tuple of them)."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key, count in counts.items():
        family.add_metric(list(key) if isinstance(key, tuple) else [key], count)
    return family


class _WithoutCreated(Collector):
    """A registry's metrics without the ``*_created`` samples prometheus_client adds beside
    every counter and histogram (twice the series, for a timestamp Prometheus' own reset
    handling makes unnecessary). Filtered here rather than switched off process-wide
    (``disable_created_metrics``), which would change the exposition of anything else in a
    process that embeds the server (the pytest plugin runs it in the user's tests)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        for metric in self.registry.collect():
            metric.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield metric


def _one_line(err: BaseException) -> str:
    first = (str(err).strip().splitlines() or [""])[0][:300]
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


# -- the endpoint ----------------------------------------------------------------------------


class Exporter:
    """Everything ``/metrics`` needs in one process: the pipeline's counters, the database
    gauges, the registry a scrape reads, and the exposure check."""

    def __init__(self, settings: Settings, engine: Engine, actions: Sequence[str]) -> None:
        self.mode = exposure(settings)
        self._token = (settings.metrics_token or "").encode()
        self.registry = CollectorRegistry(auto_describe=False)
        self.api = ApiMetrics(self.registry, actions)
        self.database = DatabaseGauges(engine)
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        if self.multiprocess:  # every process's counters, summed from their files
            self.scraped = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(self.scraped)  # type: ignore[no-untyped-call]
        else:
            self.scraped = self.registry
            ProcessCollector(registry=self.scraped)
            PlatformCollector(registry=self.scraped)
        self.scraped.register(self.database)
        self._render_limiter = anyio.CapacityLimiter(1)

    def authorized(self, authorization: str | None) -> bool:
        """Whether a request with this ``Authorization`` header may read the metrics."""
        if self.mode == "open":
            return True
        if self.mode != "token" or not authorization:
            return False
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credentials.strip().encode(), self._token)

    def render(self, accept: str) -> tuple[bytes, str]:
        self.api.sync_audit()
        encoder, content_type = choose_encoder(accept)
        return encoder(_WithoutCreated(self.scraped)), content_type

    async def scrape(self, accept: str) -> tuple[bytes, str]:
        """The exposition (database gauges renewed first), rendered off the event loop."""
        await self.database.refresh()
        return await anyio.to_thread.run_sync(self.render, accept, limiter=self._render_limiter)
