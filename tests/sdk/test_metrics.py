"""An operator's view of a real server: ``/metrics``, ``/readyz`` and JSON logs (issue 17).

One module-wide server runs with its own AccessKey (never the development pair), JSON logs
and a one-call-a-second limit on ListProjects; calls go through the official SDKs and a
raw signed request. Servers with other settings (a token, a public address, two processes,
a Redis of the test's own) are started by the tests that need them.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from openworks.store import make_engine
from tests.unit.protocol.signer import sign_v1, v1_query

from .clients import CallFailed, LegacyClient, Tea2024Client, TeaClient
from .conftest import RunningServer, free_port, poll, start_server, unique

KEY_ID, SECRET = "LTAImetricsTestKey01", "metrics-secret-5f1c9a7e0b2d"
ACCOUNT = "1000000000000001"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def own_key_env(**extra: str) -> dict[str, str]:
    return {"OPENWORKS_ACCESS_KEY_ID": KEY_ID, "OPENWORKS_ACCESS_KEY_SECRET": SECRET, **extra}


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    tmp = tmp_path_factory.mktemp("metrics")
    limits = tmp / "limits.toml"
    limits.write_text('preset = "off"\n\n[operations]\nListProjects = 1\n')
    running = start_server(
        tmp, own_key_env(), args=("--log-format", "json", "--throttle", str(limits))
    )
    yield running
    running.stop()


def get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), lower(response.headers.items())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode(), lower(err.headers.items())


def lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): text for name, text in items}


def scrape(port: int, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body, _ = get(port, "/metrics", headers)
    assert status == 200, body
    return parse(body)


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def wait_for(port: int, name: str, expected: float, **labels: str) -> Samples:
    """Scrape until the database gauge shows ``expected`` (snapshots live a second)."""
    deadline = time.monotonic() + 10
    while True:
        samples = scrape(port)
        if value(samples, name, **labels) == expected or time.monotonic() > deadline:
            return samples
        time.sleep(0.2)


def raw_call(port: int, action: str) -> int:
    """A correctly signed call to ``action`` (any name); its HTTP status."""
    signed = sign_v1(SECRET, v1_query(KEY_ID, uuid.uuid4().hex, time.time(), action))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/?" + signed.query_string.decode(), headers=dict(signed.headers))
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


# -- /metrics --------------------------------------------------------------------------------


def test_requests_counted_by_action_code_and_status(monitored: RunningServer) -> None:
    tea = TeaClient(monitored.endpoint, KEY_ID, SECRET)
    pid = tea.call("CreateProject", ProjectIdentifier=unique("m"), ProjectName="m")["Data"]
    for _ in range(3):
        tea.call("GetProject", ProjectId=pid)
    with pytest.raises(CallFailed) as missing:
        tea.call("GetProject", ProjectId=987654321)
    samples = scrape(monitored.port)
    requests = "openworks_api_requests_total"
    assert value(samples, requests, action="CreateProject", code="OK", status="200") == 1
    assert value(samples, requests, action="GetProject", code="OK", status="200") == 3
    failed = {
        "action": "GetProject",
        "code": missing.value.code,
        "status": str(missing.value.status),
    }
    assert value(samples, requests, **failed) == 1
    # the latency histogram: one bucket series per bound, count and sum
    hist = "openworks_api_request_duration_seconds"
    assert value(samples, hist + "_count", action="GetProject") == 4
    assert value(samples, hist + "_bucket", action="GetProject", le="+Inf") == 4
    assert (value(samples, hist + "_sum", action="GetProject") or 0) > 0
    assert value(samples, hist + "_bucket", action="GetProject", le="0.001") is not None


def test_unknown_actions_share_one_series(monitored: RunningServer) -> None:
    names = [f"NoSuchAction{uuid.uuid4().hex[:12]}" for _ in range(40)]
    assert {raw_call(monitored.port, name) for name in names} == {404}
    status, body, headers = get(monitored.port, "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert not any(name in body for name in names)
    samples = parse(body)
    labels = {"action": "unknown", "code": "InvalidApi.NotFound", "status": "404"}
    assert value(samples, "openworks_api_requests_total", **labels) == 40
    actions = {dict(labels)["action"] for (name, labels) in samples if "action" in dict(labels)}
    assert actions <= {"unknown", "-", "CreateProject", "GetProject", "ListProjects",
                       "CreateFile", "SubmitFile", "GetDeployment", "GetPipelineRun"}  # fmt: skip


def test_2024_actions_have_their_own_series(monitored: RunningServer) -> None:
    """An operation only 2024-05-18 has is labelled by its name, not 'unknown'."""
    client = Tea2024Client(monitored.endpoint, KEY_ID, SECRET)
    with pytest.raises(CallFailed) as failed:
        client.call("GetPipelineRun", ProjectId=987654321, Id=str(uuid.uuid4()))
    samples = parse(get(monitored.port, "/metrics")[1])
    labels = {"action": "GetPipelineRun", "code": failed.value.code}
    labels["status"] = str(failed.value.status)
    assert value(samples, "openworks_api_requests_total", **labels) == 1


def test_throttled_calls_counted_by_code(monitored: RunningServer) -> None:
    legacy = LegacyClient(monitored.endpoint, KEY_ID, SECRET)  # no automatic retries
    codes = []
    for _ in range(6):
        try:
            legacy.call("ListProjects")
            codes.append("OK")
        except CallFailed as err:
            codes.append(err.code)
    assert "Throttling.Api" in codes, codes
    samples = scrape(monitored.port)
    throttled = codes.count("Throttling.Api")
    assert value(samples, "openworks_api_throttled_total", code="Throttling.Api") == throttled
    labels = {"action": "ListProjects", "code": "Throttling.Api", "status": "429"}
    assert value(samples, "openworks_api_requests_total", **labels) == throttled


def test_packages_gauge_follows_a_submitted_package(monitored: RunningServer) -> None:
    tea = TeaClient(monitored.endpoint, KEY_ID, SECRET)
    before = scrape(monitored.port)
    done = value(before, "openworks_packages", status="success") or 0
    pid = tea.call("CreateProject", ProjectIdentifier=unique("p"), ProjectName="p")["Data"]
    fid = tea.call(
        "CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10, Content="SELECT 1;"
    )["Data"]
    deployment = tea.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    assert poll(tea, pid, deployment)["Data"]["Deployment"]["Status"] == 1
    samples = wait_for(monitored.port, "openworks_packages", done + 1, status="success")
    assert value(samples, "openworks_packages", status="success") == done + 1
    assert value(samples, "openworks_package_queue_depth") == 0
    assert value(samples, "openworks_metrics_database_up") == 1
    for state in ("pending", "delivered", "abandoned"):
        assert value(samples, "openworks_check_deliveries", state=state) is not None
    assert value(samples, "openworks_check_delivery_failures_total") is not None


def test_audit_write_failures_exported(monitored: RunningServer) -> None:
    before = scrape(monitored.port)
    failures = value(before, "openworks_audit_write_failures_total")
    lost = value(before, "openworks_audit_rows_lost_total")
    assert failures is not None and lost is not None
    engine = make_engine(monitored.database_url, pool=False)
    try:
        with engine.begin() as conn:  # every audit insert now fails: counted, call answered
            conn.exec_driver_sql("ALTER TABLE audit_log RENAME TO audit_log_away")
        try:
            tea = TeaClient(monitored.endpoint, KEY_ID, SECRET)
            tea.call("CreateProject", ProjectIdentifier=unique("a"), ProjectName="audit")
        finally:
            with engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE audit_log_away RENAME TO audit_log")
    finally:
        engine.dispose()
    samples = scrape(monitored.port)
    assert value(samples, "openworks_audit_write_failures_total") == failures + 1
    assert value(samples, "openworks_audit_rows_lost_total") == lost + 1


def test_header_too_large_refusals_counted(monitored: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", monitored.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
        answer = sock.recv(100)
    assert answer.startswith(b"HTTP/1.1 431")
    samples = scrape(monitored.port)
    assert (value(samples, "openworks_http_refusals_total", reason="header_too_large") or 0) >= 1


# -- JSON logs -------------------------------------------------------------------------------


def test_json_log_lines(monitored: RunningServer) -> None:
    tea = TeaClient(monitored.endpoint, KEY_ID, SECRET)
    with pytest.raises(CallFailed) as missing:
        tea.call("GetProject", ProjectId=987654322)
    request_id = missing.value.request_id
    deadline = time.monotonic() + 5
    while request_id not in monitored.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = monitored.log()
    assert SECRET not in text
    records = []
    for line in text.splitlines():
        if line.startswith("openworks: "):  # the start-up summary on stdout stays text
            continue
        records.append(json.loads(line))  # every log line is one JSON object
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    access = [r for r in records if r["logger"] == "openworks.access"]
    assert access and all(
        {"request_id", "action", "status", "code", "ms"} <= set(r) for r in access
    )
    (line,) = [r for r in access if r["request_id"] == request_id]
    assert line["action"] == "GetProject" and line["account"] == ACCOUNT
    assert line["status"] == missing.value.status and line["code"] == missing.value.code
    assert isinstance(line["ms"], int | float) and line["level"] == "INFO"
    assert any(r["logger"].startswith("uvicorn") for r in records)  # uvicorn's too


# -- exposure ---------------------------------------------------------------------------------


def test_metrics_token_required_when_set(tmp_path: Path) -> None:
    token = "scrape-token-0123456789abcdef"
    running = start_server(tmp_path, {"OPENWORKS_METRICS_TOKEN": token})
    try:
        status, _, headers = get(running.port, "/metrics")
        assert status == 401 and headers["www-authenticate"].startswith("Bearer")
        assert (
            get(running.port, "/metrics", {"Authorization": "Bearer wrong-token-000000"})[0] == 401
        )
        assert get(running.port, "/metrics", {"Authorization": f"Basic {token}"})[0] == 401
        assert value(scrape(running.port, token), "openworks_metrics_database_up") == 1
        assert "metrics at /metrics (bearer token" in running.log()
        assert token not in running.log()
    finally:
        running.stop()


def test_metrics_off_on_a_public_address(tmp_path: Path) -> None:
    running = start_server(tmp_path, own_key_env(), args=("--host", "0.0.0.0"))
    try:
        assert get(running.port, "/metrics")[0] == 404
        assert get(running.port, "/readyz")[0] == 200
        assert "metrics off" in running.log()
    finally:
        running.stop()


def test_token_mode_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "openworks", "serve", "--metrics", "token",
         "--port", str(free_port()), "--database-url", f"sqlite:///{tmp_path}/ow.db"],
        env={"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "OPENWORKS_METRICS_TOKEN" in done.stderr


# -- several processes -----------------------------------------------------------------------


def test_workers_share_their_counters(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    running = start_server(tmp_path, {"TMPDIR": str(scratch)}, args=("--workers", "2"))
    try:
        legacy = LegacyClient(running.endpoint, "openworks-dev-key", "openworks-dev-secret")
        for _ in range(10):
            legacy.call("ListProjects")
        (shared,) = scratch.glob("openworks-metrics-*")
        deadline = time.monotonic() + 20  # /healthz answered once the first process was up
        while len(list(shared.glob("counter_*.db"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(shared.glob("counter_*.db"))) == 2  # each process writes its own
        labels = {"action": "ListProjects", "code": "OK", "status": "200"}
        seen = []
        for _ in range(8):  # each scrape a new connection: any process may answer it
            seen.append(value(scrape(running.port), "openworks_api_requests_total", **labels))
        assert seen == [10] * 8
    finally:
        running.stop()
    assert not list(scratch.glob("openworks-metrics-*"))  # removed when serve exits


# -- /readyz ----------------------------------------------------------------------------------


def test_readyz_checks_the_database(monitored: RunningServer) -> None:
    status, body, headers = get(monitored.port, "/readyz")
    assert status == 200 and json.loads(body) == {"status": "ready", "checks": {"database": "ok"}}
    assert headers["cache-control"] == "no-store"
    assert get(monitored.port, "/healthz")[:2] == (200, '{"status":"ok"}')  # liveness only


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")
def test_readyz_503_while_redis_is_down(tmp_path: Path) -> None:
    from .test_redis_outage import OwnRedis

    redis = OwnRedis(free_port())
    redis.start()
    running = None
    try:
        running = start_server(tmp_path, args=("--redis-url", redis.url))
        status, body, _ = get(running.port, "/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"] == {"database": "ok", "redis": "ok"}
        redis.kill()
        status, body, _ = get(running.port, "/readyz")
        assert status == 503
        assert json.loads(body) == {
            "status": "not ready",
            "checks": {"database": "ok", "redis": "unavailable"},
        }
        assert get(running.port, "/healthz")[0] == 200  # alive all the same
        redis.start()
        assert get(running.port, "/readyz")[0] == 200
    finally:
        if running is not None:
            running.stop()
        redis.kill()
