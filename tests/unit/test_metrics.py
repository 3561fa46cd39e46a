"""Metrics, readiness and JSON logs in process: exposure rules, bounded labels, the database
snapshot and its timeout, the readiness checks' outcomes, the JSON formatter."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import logging.config
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from openworks.app import build_service, create_app
from openworks.config import ConfigError, Settings
from openworks.logformat import JsonFormatter, uvicorn_log_config
from openworks.metrics import (
    MAX_SERIES,
    ApiMetrics,
    DatabaseGauges,
    Exporter,
    describe_exposure,
    exposure,
    read_snapshot,
)
from openworks.readiness import Readiness
from openworks.store import audit, make_engine
from tests.dbutil import fresh_database_url, postgres_base

from .protocol.signer import sign_v1, v1_query

KEY, SECRET = "openworks-dev-key", "openworks-dev-secret"
TOKEN = "t" * 16


# -- exposure ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "mode", "token", "expected"),
    [
        ("127.0.0.1", "auto", None, "open"),
        ("::1", "auto", None, "open"),
        ("localhost", "auto", None, "open"),
        ("0.0.0.0", "auto", None, "off"),
        ("10.1.2.3", "auto", None, "off"),
        ("0.0.0.0", "auto", TOKEN, "token"),
        ("127.0.0.1", "auto", TOKEN, "token"),
        ("0.0.0.0", "open", None, "open"),
        ("127.0.0.1", "off", TOKEN, "off"),
        ("0.0.0.0", "token", TOKEN, "token"),
    ],
)
def test_exposure(host: str, mode: str, token: str | None, expected: str) -> None:
    assert exposure(Settings(host=host, metrics=mode, metrics_token=token)) == expected


@pytest.mark.parametrize(
    ("mode", "token", "message"),
    [("token", None, "OPENWORKS_METRICS_TOKEN"), ("token", "short", "at least 16"),
     ("auto", "short", "at least 16"), ("public", None, "Unknown --metrics")],
)  # fmt: skip
def test_unusable_exposure_is_a_config_error(mode: str, token: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        exposure(Settings(metrics=mode, metrics_token=token))


def test_exposure_described_without_the_token() -> None:
    assert TOKEN not in describe_exposure(Settings(metrics_token=TOKEN))
    assert "open to anyone" in describe_exposure(Settings(host="0.0.0.0", metrics="open"))
    assert describe_exposure(Settings(host="0.0.0.0")).startswith("metrics off")


def test_settings_round_trip_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(metrics="token", metrics_token=TOKEN, log_format="json")
    for name, text_value in settings.to_env().items():
        monkeypatch.setenv(name, text_value)
    again = Settings.from_env()
    assert (again.metrics, again.metrics_token, again.log_format) == ("token", TOKEN, "json")


def exporter(tmp_path: Path, **settings: Any) -> Exporter:
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    return Exporter(Settings(**settings), engine, ["GetProject", "ListProjects"])


def test_bearer_token_check(tmp_path: Path) -> None:
    guarded = exporter(tmp_path, metrics="token", metrics_token=TOKEN)
    assert guarded.authorized(f"Bearer {TOKEN}") and guarded.authorized(f"bearer {TOKEN}")
    for header in (None, "", f"Basic {TOKEN}", "Bearer ", f"Bearer {TOKEN}x", TOKEN):
        assert not guarded.authorized(header)
    assert exporter(tmp_path).authorized(None)  # loopback, no token: open
    assert not exporter(tmp_path, host="0.0.0.0", access_key_id="k", access_key_secret="s")\
        .authorized(f"Bearer {TOKEN}")  # fmt: skip


# -- counters ---------------------------------------------------------------------------------


def samples(registry: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    from prometheus_client import generate_latest

    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }


def test_labels_are_bounded() -> None:
    registry = CollectorRegistry()
    metrics = ApiMetrics(registry, ["GetProject"])
    metrics.observe("GetProject", "OK", 200, 0.0004)
    metrics.observe("-", "MissingParameter", 400, 0.0001)
    for n in range(500):  # a client inventing names: one series
        metrics.observe(f"Made{n}Up", "InvalidApi.NotFound", 404, 0.0001)
    got = samples(registry)
    actions = {dict(k[1]).get("action") for k in got} - {None}
    assert actions == {"GetProject", "-", "unknown"}
    key = frozenset({"action": "unknown", "code": "InvalidApi.NotFound", "status": "404"}.items())
    assert got[("openworks_api_requests_total", key)] == 500
    assert got[("openworks_api_request_duration_seconds_count",
                frozenset({"action": "unknown"}.items()))] == 500  # fmt: skip
    bucket = frozenset({"action": "GetProject", "le": "0.0005"}.items())
    assert got[("openworks_api_request_duration_seconds_bucket", bucket)] == 1


def test_codes_past_the_series_bound_become_other() -> None:
    metrics = ApiMetrics(CollectorRegistry(), ["GetProject"])
    for n in range(MAX_SERIES + 10):
        metrics.observe("GetProject", f"Code{n}", 400, 0.001)
    series = {s.labels["code"] for s in metrics.requests.collect()[0].samples}
    assert len(series) == MAX_SERIES + 1 and "other" in series


def test_throttled_calls_counted() -> None:
    registry = CollectorRegistry()
    metrics = ApiMetrics(registry, ["ListProjects"])
    metrics.observe("ListProjects", "Throttling.User", 429, 0.0001)
    metrics.observe("ListProjects", "Throttling.User", 429, 0.0001)
    metrics.observe("ListProjects", "OK", 200, 0.0001)
    got = samples(registry)
    assert got[("openworks_api_throttled_total", frozenset({("code", "Throttling.User")}))] == 2


def test_audit_counters_follow_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = CollectorRegistry()
    counts = {"failures": 3, "lost": 1}
    monkeypatch.setattr("openworks.metrics.audit_failures", lambda: counts["failures"])
    monkeypatch.setattr("openworks.metrics.audit_rows_lost", lambda: counts["lost"])
    metrics = ApiMetrics(registry, [])
    metrics.sync_audit()
    counts["failures"] += 2
    metrics.sync_audit()
    metrics.sync_audit()
    got = samples(registry)
    assert got[("openworks_audit_write_failures_total", frozenset())] == 5
    assert got[("openworks_audit_rows_lost_total", frozenset())] == 1


def test_real_audit_counters_are_the_source() -> None:
    metrics = ApiMetrics(CollectorRegistry(), [])
    metrics.sync_audit()
    assert metrics.audit_failures._value.get() == audit.audit_failures()


# -- the database snapshot ---------------------------------------------------------------------


def post(app: object, action: str, **body: str) -> httpx.Response:
    raw = sign_v1(SECRET, v1_query(KEY, uuid.uuid4().hex, time.time(), action), body)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
            return await c.post(
                "/?" + raw.query_string.decode(), content=raw.body, headers=dict(raw.headers)
            )

    return asyncio.run(go())


def fetch(app: object, path: str, **headers: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
            return await c.get(path, headers=headers)

    return asyncio.run(go())


@pytest.fixture
def service_app(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    url = fresh_database_url("met") if postgres_base() else f"sqlite:///{tmp_path / 'm.db'}"
    service = build_service(Settings(database_url=url, run_worker=False))
    yield service, create_app(service)
    service.engine.dispose()


def test_metrics_endpoint_shows_a_waiting_package(service_app: tuple[Any, Any]) -> None:
    _service, app = service_app
    pid = post(app, "CreateProject", ProjectIdentifier="met_ws", ProjectName="m").json()["Data"]
    fid = post(
        app, "CreateFile", ProjectId=str(pid), FileName="f", FileType="10", Content="SELECT 1;"
    ).json()["Data"]
    assert post(app, "SubmitFile", ProjectId=str(pid), FileId=str(fid)).status_code == 200
    response = fetch(app, "/metrics")  # no worker runs here: the package waits
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert "_created" not in response.text
    from prometheus_client import metrics as client_metrics

    assert client_metrics._use_created  # filtered, not switched off for the whole process
    got = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert got[("openworks_packages", (("status", "ready"),))] == 1
    assert got[("openworks_package_queue_depth", ())] == 1
    assert got[("openworks_packages_waiting", (("reason", "approval"),))] == 0
    assert got[("openworks_metrics_database_up", ())] == 1
    ok = (("action", "SubmitFile"), ("code", "OK"), ("status", "200"))
    assert got[("openworks_api_requests_total", ok)] == 1


def test_client_gone_mid_body_counted(service_app: tuple[Any, Any]) -> None:
    app = service_app[1]
    scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"",
             "headers": [(b"content-length", b"100")]}  # fmt: skip
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app.api(scope, receive, send))
    assert sent == []  # nobody to answer
    body = fetch(app, "/metrics").text
    assert 'openworks_http_refusals_total{reason="body_disconnected"} 1.0' in body


def test_openmetrics_when_asked(service_app: tuple[Any, Any]) -> None:
    response = fetch(service_app[1], "/metrics", accept="application/openmetrics-text")
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def migrated(path: Path) -> Any:
    from openworks.store import migrate

    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


def test_snapshot_counts_holds_runs_and_deliveries(tmp_path: Path) -> None:
    engine = migrated(tmp_path / "s.db")
    package = (
        "INSERT INTO packages (project_id, name, status, from_env, to_env, creator_id, "
        "create_time, hold) VALUES (1, 'p', ?, 0, 1, 'u', 0, ?)"
    )
    run = (
        "INSERT INTO check_runs (event_id, package_id, kind, name, checker_instance_id, "
        "status) VALUES (1, 1, ?, 'c', ?, ?)"
    )
    delivery = (
        "INSERT INTO outbox (run_id, account_id, extension_code, body, state, attempts, "
        "next_attempt, create_time) VALUES (1, 'a', 'e', '{}', ?, ?, 0, 0)"
    )
    with contextlib.closing(sqlite3.connect(tmp_path / "s.db")) as raw, raw:  # no FK checks
        raw.executemany(
            package,
            [
                (0, None),
                (0, None),
                (0, "approval"),
                (0, "checks"),
                (0, "weird"),
                (1, None),
                (2, None),
                (6, None),
                (99, None),
            ],
        )
        raw.executemany(run, [("builtin", "a", "FAIL"), ("extension", "b", "CHECKING")])
        raw.executemany(delivery, [("PENDING", 0), ("PENDING", 3), ("DELIVERED", 2),
                                   ("ABANDONED", 4)])  # fmt: skip
    snap = read_snapshot(engine)
    assert snap.packages == {"ready": 5, "success": 1, "failed": 1, "rejected": 1, "other": 1}
    assert snap.queue_depth == 2
    assert snap.waiting == {"checks": 1, "approval": 1, "other": 1}
    assert snap.runs[("builtin", "fail")] == 1 and snap.runs[("extension", "checking")] == 1
    assert snap.deliveries == {"pending": 2, "delivered": 1, "abandoned": 1}
    assert snap.retrying == 1
    assert snap.failed_attempts == 3 + 1 + 4  # the delivered row's last attempt succeeded
    engine.dispose()


def test_snapshot_interrupted_past_its_timeout(tmp_path: Path) -> None:
    engine = migrated(tmp_path / "t.db")
    with contextlib.closing(sqlite3.connect(tmp_path / "t.db")) as raw, raw:
        raw.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
            "INSERT INTO packages (project_id, name, status, from_env, to_env, creator_id, "
            "create_time) SELECT 1, 'p', i % 3, 0, 1, 'u', 0 FROM n"
        )
    with pytest.raises(Exception, match="interrupted"):
        read_snapshot(engine, timeout=-1)
    assert read_snapshot(engine).packages["ready"] > 0  # the handler was removed again
    engine.dispose()


def test_failing_snapshot_reports_database_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}")  # a directory: cannot be opened
    gauges = DatabaseGauges(engine, ttl=0)
    with caplog.at_level(logging.WARNING, logger="openworks.metrics"):
        asyncio.run(gauges.refresh())
        asyncio.run(gauges.refresh())
    names = [m.name for m in gauges.collect()]
    assert names == ["openworks_metrics_database_up"]
    assert next(iter(gauges.collect())).samples[0].value == 0
    assert len(caplog.records) == 1  # one line per outage, not per scrape


def test_stuck_snapshot_query_is_not_repeated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, calls = threading.Event(), []

    def stuck(engine: Any, timeout: float) -> Any:
        calls.append(1)
        release.wait(10)
        return read_snapshot(engine, timeout)

    gauges = DatabaseGauges(migrated(tmp_path / "q.db"), ttl=0, timeout=0.05)
    monkeypatch.setattr("openworks.metrics.read_snapshot", stuck)
    try:
        started = time.monotonic()
        asyncio.run(gauges.refresh())  # given up on after its timeout: the database is down
        asyncio.run(gauges.refresh())  # its thread still runs: not started again
        assert time.monotonic() - started < 2 and len(calls) == 1
        assert [m.name for m in gauges.collect()] == ["openworks_metrics_database_up"]
    finally:
        release.set()
    deadline = time.monotonic() + 5
    while gauges._querying and time.monotonic() < deadline:
        time.sleep(0.01)
    asyncio.run(gauges.refresh())
    assert len(calls) == 2 and "openworks_packages" in [m.name for m in gauges.collect()]


# -- readiness ---------------------------------------------------------------------------------


def test_ready_with_a_database(tmp_path: Path) -> None:
    ready = Readiness(make_engine(f"sqlite:///{tmp_path / 'r.db'}"))
    assert asyncio.run(ready.check()) == (True, {"database": "ok"})


def test_not_ready_without_redis(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from tests.sdk.conftest import free_port

    url = f"redis://:hunter2-password@127.0.0.1:{free_port()}/0"
    ready = Readiness(make_engine(f"sqlite:///{tmp_path / 'r.db'}"), url, 0.2)
    with caplog.at_level(logging.WARNING, logger="openworks.readiness"):
        assert asyncio.run(ready.check()) == (False, {"database": "ok", "redis": "unavailable"})
    assert "hunter2" not in caplog.text and "redis unavailable" in caplog.text


def test_stuck_check_times_out_and_holds_one_thread(tmp_path: Path) -> None:
    ready = Readiness(make_engine(f"sqlite:///{tmp_path / 'r.db'}"), timeout=0.2)
    release = threading.Event()
    calls = []

    def stuck() -> None:
        calls.append(1)
        release.wait(10)

    ready._checks["database"] = stuck
    try:
        started = time.monotonic()
        assert asyncio.run(ready.check()) == (False, {"database": "timeout"})
        assert asyncio.run(ready.check()) == (False, {"database": "timeout"})
        assert time.monotonic() - started < 2
        assert len(calls) == 1  # the second probe never started a second stuck thread
    finally:
        release.set()


def test_unreadable_database_is_unavailable(tmp_path: Path) -> None:
    ready = Readiness(make_engine(f"sqlite:///{tmp_path}"))  # a directory
    assert asyncio.run(ready.check()) == (False, {"database": "unavailable"})


def test_readyz_route(service_app: tuple[Any, Any]) -> None:
    response = fetch(service_app[1], "/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


# -- JSON logs ---------------------------------------------------------------------------------


def record(**extra: Any) -> logging.LogRecord:
    rec = logging.LogRecord("openworks.access", logging.INFO, __file__, 1, "%s %d", ("Get", 200),
                            None)  # fmt: skip
    rec.__dict__.update(extra)
    return rec


def test_json_formatter_fields() -> None:
    rec = record(request_id="R1", action="GetProject", account="1", status=200, code="OK", ms=0.4)
    rec.created = 1700000000.25
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2023-11-14T22:13:20.250Z", "level": "INFO", "logger": "openworks.access",
        "message": "Get 200", "request_id": "R1", "action": "GetProject", "account": "1",
        "status": 200, "code": "OK", "ms": 0.4,
    }  # fmt: skip


def test_json_formatter_plain_record_and_exception() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        rec = record()
        rec.exc_info = sys.exc_info()
    document = json.loads(JsonFormatter().format(rec))
    assert set(document) == {"time", "level", "logger", "message", "exc_info"}
    assert "ValueError: boom" in document["exc_info"]


def test_uvicorn_log_config() -> None:
    from uvicorn.config import LOGGING_CONFIG

    assert uvicorn_log_config("text") == LOGGING_CONFIG  # uvicorn's own, unchanged
    json_config = uvicorn_log_config("json")
    assert json_config["loggers"] == LOGGING_CONFIG["loggers"]
    for formatter in json_config["formatters"].values():
        assert formatter == {"()": "openworks.logformat.JsonFormatter"}
    configurator = logging.config.DictConfigurator(json_config)
    assert configurator.resolve("openworks.logformat.JsonFormatter") is JsonFormatter


def test_unknown_log_format_refused() -> None:
    from openworks.config import configure_logging

    with pytest.raises(ConfigError, match="log format"):
        configure_logging("info", "xml")


def test_sqlite_progress_handler_message() -> None:
    # the interruption read_snapshot relies on is sqlite3's own
    conn = sqlite3.connect(":memory:")
    conn.set_progress_handler(lambda: 1, 1)
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        conn.execute("SELECT 1").fetchall()
    conn.close()
