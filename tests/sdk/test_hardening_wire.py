"""Issue 13, items 1, 3 and 4 and the big-input case, against a real server:

* the operation that runs is the one the signature covers (no unsigned header swaps it);
* slow clients (partial headers, trickled bodies, many idle sockets) hold no share of the
  server: signed calls and ``/healthz`` keep answering, the slow ones get 408 in time;
* impossible AccessKey ids and oversized header blocks are refused before any lookup or
  cache, and the server's memory stays put;
* a ListFiles of many 1 MB files does not hold the event loop.
"""

from __future__ import annotations

import concurrent.futures
import gc
import http.client
import json
import os
import socket
import statistics
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.protocol.signer import sign_acs3, sign_v1, v1_query
from tests.unit.protocol.vectors import replace_header

from .clients import CallFailed, TeaClient
from .conftest import DEV_KEY, RunningServer, start_server, unique
from .test_protocol_errors import send

READ_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with a short request deadline and the default in-flight bound (128)."""
    running = start_server(
        tmp_path_factory.mktemp("guarded"), args=("--read-timeout", str(READ_TIMEOUT))
    )
    yield running
    running.stop()


def _healthz_ms(port: int) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
        assert answer.status == 200
    return (time.perf_counter() - started) * 1000


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _file(tea: TeaClient, project_id: int, content: str = "SELECT 1;") -> int:
    data = tea.call(
        "CreateFile", ProjectId=project_id, FileName=unique("f"), FileType=10, Content=content
    )
    return int(data["Data"])


def _project(tea: TeaClient) -> int:
    data = tea.call("CreateProject", ProjectIdentifier=unique("hw"), ProjectName="hardening")
    return int(data["Data"])


# -- item 1: the signed operation runs -------------------------------------------------------


def test_v1_unsigned_action_header_cannot_run_another_operation(guarded: RunningServer) -> None:
    tea = TeaClient(guarded.endpoint, *DEV_KEY)
    project_id = _project(tea)
    file_id = _file(tea, project_id)
    query = {
        **v1_query(DEV_KEY[0], unique("n"), time.time(), action="GetFile"),
        "ProjectId": str(project_id),
        "FileId": str(file_id),
    }
    raw = sign_v1(DEV_KEY[1], query)
    swapped = replace_header(raw, "x-acs-action", "DeleteFile")
    status, headers, body = send(guarded, swapped)
    error = json.loads(body)
    assert (status, error["Code"]) == (400, "InvalidParameter.Conflict")
    assert error["RequestId"] == headers["x-acs-request-id"]
    assert "DeleteFile" in error["Message"] and "GetFile" in error["Message"]
    # the file is still there, and the signed request alone runs GetFile
    assert tea.call("GetFile", ProjectId=project_id, FileId=file_id)["Data"]["File"]["FileId"]
    status, _, body = send(guarded, sign_v1(DEV_KEY[1], {**query, "SignatureNonce": unique("n")}))
    assert status == 200 and json.loads(body)["Data"]["File"]["FileId"] == file_id


def test_v1_unsigned_version_header_is_refused(guarded: RunningServer) -> None:
    raw = sign_v1(DEV_KEY[1], v1_query(DEV_KEY[0], unique("n"), time.time(), "ListProjects"))
    swapped = replace_header(raw, "x-acs-version", "2024-05-18")
    status, _, body = send(guarded, swapped)
    assert (status, json.loads(body)["Code"]) == (400, "InvalidParameter.Conflict")


def test_acs3_action_parameter_disagreeing_with_signed_header(guarded: RunningServer) -> None:
    raw = sign_acs3(
        DEV_KEY[0],
        DEV_KEY[1],
        unique("n"),
        time.time(),
        query={"Action": "DeleteFile"},
        action="ListProjects",
    )
    raw = replace_header(raw, "host", guarded.endpoint)
    status, _, body = send(guarded, raw)
    assert (status, json.loads(body)["Code"]) == (400, "InvalidParameter.Conflict")


# -- item 3: slow clients ----------------------------------------------------------------------


def _open(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(data)
    return sock


def _answer(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_trickled_bodies_hold_no_inflight_slot(guarded: RunningServer) -> None:
    """130 sockets (more than the 128 in-flight slots) send headers and part of a body."""
    head = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 1000\r\n\r\nAction=Get"
    )
    sockets = [_open(guarded.port, head) for _ in range(130)]
    try:
        time.sleep(0.3)
        tea = TeaClient(guarded.endpoint, *DEV_KEY)
        for _ in range(5):  # legitimate calls are served, not 429 Throttling.System
            tea.call("ListProjects", PageSize=10)
        assert max(_healthz_ms(guarded.port) for _ in range(5)) < 100
        # the deadline closes every trickling request
        started = time.monotonic()
        for sock in sockets:
            _answer(sock)
        assert time.monotonic() - started < READ_TIMEOUT + 5
    finally:
        for sock in sockets:
            sock.close()


def test_partial_headers_get_408_and_healthz_answers(guarded: RunningServer) -> None:
    sockets = [_open(guarded.port, b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ") for _ in range(200)]
    try:
        assert max(_healthz_ms(guarded.port) for _ in range(5)) < 100
        TeaClient(guarded.endpoint, *DEV_KEY).call("ListProjects", PageSize=10)
        answers = [_answer(sock) for sock in sockets]
        assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), answers[0]
    finally:
        for sock in sockets:
            sock.close()


def test_idle_connections_do_not_stop_others(guarded: RunningServer) -> None:
    sockets = [socket.create_connection(("127.0.0.1", guarded.port)) for _ in range(300)]
    try:
        assert max(_healthz_ms(guarded.port) for _ in range(5)) < 100
        TeaClient(guarded.endpoint, *DEV_KEY).call("ListProjects", PageSize=10)
    finally:
        for sock in sockets:
            sock.close()


def test_body_deadline_in_the_application(guarded: RunningServer) -> None:
    """A trickled body is answered 408 within the deadline (or the connection closed)."""
    sock = _open(
        guarded.port,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nAction=",
    )
    started = time.monotonic()
    try:
        answer = _answer(sock)
    finally:
        sock.close()
    assert time.monotonic() - started < READ_TIMEOUT + 3
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


# -- item 4: impossible key ids, oversized headers, memory ---------------------------------


def test_oversized_header_block_is_431(guarded: RunningServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=10)
    try:
        headers = {f"X-Big-{index}": "a" * 8192 for index in range(24)}  # 192 KiB in all
        conn.request("POST", "/", headers=headers)
        assert conn.getresponse().status == 431
    except (ConnectionResetError, BrokenPipeError):
        pass  # the server may close before the client finished sending
    finally:
        conn.close()


def test_connection_stays_usable_after_an_early_413(guarded: RunningServer) -> None:
    """A body over the limit is answered 413 as soon as its length is declared; the rest
    of it still arrives on the connection and is body, not a next request's headers."""
    conn = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=10)
    try:
        for _ in range(2):
            conn.request("POST", "/", body=b"x" * (4 * 1024 * 1024 + 10))
            big = conn.getresponse()
            big.read()
            assert big.status == 413
            conn.request("POST", "/?Action=ListProjects&Version=2020-05-18")
            small = conn.getresponse()
            assert small.status == 400
            assert json.loads(small.read())["Code"] == "IncompleteSignature"
    finally:
        conn.close()


def test_random_huge_access_key_ids_do_not_grow_memory(guarded: RunningServer) -> None:
    """150 requests with random 1 MiB AccessKey ids (in the form body, where no header
    bound applies): all refused as InvalidAccessKeyId.NotFound, RSS grows < 30 MB."""
    query = v1_query("x", "n", time.time())
    before = _rss_kib(guarded.process.pid)

    def one(index: int) -> tuple[int, str]:
        key = os.urandom(393_216).hex() + str(index)  # 786 KiB of hex, then the index
        body = "&".join(f"{k}={v}" for k, v in {**query, "AccessKeyId": key}.items())
        conn = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=30)
        conn.request(
            "POST",
            "/",
            body=(body + "&Signature=abc").encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        code = json.loads(response.read())["Code"]
        conn.close()
        return response.status, code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(one, range(150)))
    assert set(answers) == {(404, "InvalidAccessKeyId.NotFound")}
    grown_mb = (_rss_kib(guarded.process.pid) - before) / 1024
    assert grown_mb < 30, f"RSS grew by {grown_mb:.0f} MB"


# -- big input: content-heavy reads leave the event loop free ----------------------------------


def _signed_list_files(server: RunningServer, project_id: int) -> tuple[int, int]:
    """ListFiles with NeedContent, signed by hand (the test's own CPU stays small)."""
    query = {
        **v1_query(DEV_KEY[0], unique("n"), time.time(), action="ListFiles"),
        "ProjectId": str(project_id),
        "NeedContent": "true",
        "PageSize": "100",
    }
    status, _, body = send(server, sign_v1(DEV_KEY[1], query))
    return status, len(body)


def test_listfiles_of_big_files_does_not_hold_the_loop(guarded: RunningServer) -> None:
    """Each call answers ~24 MB; /healthz keeps answering meanwhile (this read ran on the
    event loop before issue 13). Measured against the calls themselves, so that a loaded
    machine slows both sides alike: a read on the loop would hold /healthz for about half a
    call typically and a whole call at worst. Percentiles, not the maximum: on two cores
    shared with the rest of the suite one sample can wait out a time slice (CI saw one
    /healthz at 138 ms beside calls of 104 ms, with every other sample far below)."""
    tea = TeaClient(guarded.endpoint, *DEV_KEY)
    project_id = _project(tea)
    big = ("SELECT '" + "x" * 1000 + "';\n") * 1000  # ~1 MB
    for _ in range(24):
        _file(tea, project_id, big)
    stop = threading.Event()
    slowest: list[float] = []
    calls_ms: list[float] = []

    def list_forever() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            status, size = _signed_list_files(guarded, project_id)
            calls_ms.append((time.perf_counter() - started) * 1000)
            assert status == 200 and size > 24_000_000

    gc.collect()  # the clock runs in this process too: no collection inside the window
    gc.disable()
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            reader = pool.submit(list_forever)
            time.sleep(0.5)
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                slowest.append(_healthz_ms(guarded.port))
                time.sleep(0.02)
            stop.set()
            reader.result()
    finally:
        gc.enable()
    assert len(calls_ms) >= 2
    call, typical = statistics.median(calls_ms), statistics.median(slowest)
    p90 = statistics.quantiles(slowest, n=10)[-1]
    assert typical < call / 4, f"/healthz took {typical:.0f} ms typically, a call {call:.0f} ms"
    assert p90 < min(100, call / 2), f"/healthz took {p90:.0f} ms at p90, a call {call:.0f} ms"


def test_conflict_error_through_official_client_shape(guarded: RunningServer) -> None:
    """A normal call through the official client still works (no false conflicts)."""
    tea = TeaClient(guarded.endpoint, *DEV_KEY)
    with pytest.raises(CallFailed) as err:
        tea.call("GetFile", ProjectId=1, FileId=999_999_999)
    assert err.value.code != "InvalidParameter.Conflict"
