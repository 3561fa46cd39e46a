"""Load generation: individually signed requests, sent by wrk (preferred) or asyncio.

::

    sign N requests (ACS3-HMAC-SHA256, unique nonce, timestamp = now)  ── before the run
        (2020: POST form body; 2024 reads: GET, parameters in the signed query, empty body;
         2024 legacy lists: POST form body)
        └─▶ one request a line (CRLF written as TAB) ─▶ wrk -t1 -cC -dD -s replay.lua
                                                       └─ fallback: asyncio raw sockets
        ◀── JSON: requests, seconds, rps, p50/p90/p99 ms, non-2xx, socket errors

A request is used once; when the file runs out wrk starts over and the server rejects the
replays, which shows up as non-2xx (size the batch with ``rate_cap``). The server's window
for timestamps is ±900 s, so a batch must be sent within 15 minutes of signing it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

__all__ = [
    "DEV_KEY",
    "V2020",
    "V2024",
    "Result",
    "acs3",
    "get_2024",
    "raw_request",
    "read_response",
    "run_load",
    "sign_acs3",
    "sign_v1",
    "signed",
    "temp_batch",
    "write_batch",
    "wrk_available",
]

DEV_KEY = ("openworks-dev-key", "openworks-dev-secret")
LUA = Path(__file__).with_name("replay.lua")
V2020, V2024 = "2020-05-18", "2024-05-18"


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _enc(value: str) -> str:
    return quote(value, safe="~")


def sign_acs3(
    host: str, action: str, params: dict[str, str], key: tuple[str, str] = DEV_KEY
) -> tuple[dict[str, str], bytes]:
    """Headers and body of one ACS3-HMAC-SHA256 signed 2020 POST with a form body."""
    _, headers, body = acs3("POST", host, action, {}, params, V2020, key)
    return headers, body


def acs3(
    method: str, host: str, action: str, query: dict[str, str], form: dict[str, str],
    version: str, key: tuple[str, str] = DEV_KEY,
) -> tuple[str, dict[str, str], bytes]:  # fmt: skip
    """Request target, headers and body of one ACS3-HMAC-SHA256 signed request, as the Tea
    SDK sends it: parameters in the query (a GET: all of them, empty body) and/or a form."""
    body = urlencode(sorted(form.items())).encode() if form else b""
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": _utc(time.time()),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "accept": "application/json",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    if form:
        headers["content-type"] = "application/x-www-form-urlencoded"
    pairs = sorted(query.items())
    canonical_query = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in pairs)
    names = sorted(headers)
    canonical = "\n".join(
        [
            method,
            "/",
            canonical_query,
            "".join(f"{n}:{headers[n]}\n" for n in names),
            ";".join(names),
            headers["x-acs-content-sha256"],
        ]
    )
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(key[1].encode(), sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key[0]},SignedHeaders={';'.join(names)},"
        f"Signature={signature}"
    )
    target = "/?" + "&".join(f"{_enc(k)}={_enc(v)}" for k, v in pairs) if pairs else "/"
    return target, headers, body


def get_2024(
    host: str, action: str, params: dict[str, str], key: tuple[str, str] = DEV_KEY
) -> tuple[str, dict[str, str], bytes]:
    """A signed 2024-05-18 GET (the Tea SDK's GetPipelineRun, ListPipelineRuns, ...)."""
    return acs3("GET", host, action, params, {}, V2024, key)


def sign_v1(
    host: str, action: str, params: dict[str, str], key: tuple[str, str] = DEV_KEY
) -> tuple[dict[str, str], bytes]:
    """Headers and body of one v1 (HMAC-SHA1) signed POST; everything in the form body."""
    every = {
        **params,
        "Action": action,
        "Format": "JSON",
        "Version": "2020-05-18",
        "Timestamp": _utc(time.time()),
        "SignatureNonce": uuid.uuid4().hex,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "AccessKeyId": key[0],
    }
    canonical = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted(every.items()))
    sts = f"POST&%2F&{_enc(canonical)}"
    mac = hmac.new((key[1] + "&").encode(), sts.encode(), hashlib.sha1).digest()
    every["Signature"] = base64.b64encode(mac).decode()
    headers = {"host": host, "content-type": "application/x-www-form-urlencoded"}
    return headers, urlencode(every).encode()


def raw_request(
    headers: dict[str, str], body: bytes, method: str = "POST", target: str = "/"
) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if method != "GET":
        head += f"content-length: {len(body)}\r\n"
    return f"{method} {target} HTTP/1.1\r\n{head}\r\n".encode() + body


def signed(
    host: str, action: str, params: dict[str, str], signer: str = "acs3"
) -> tuple[str, str, dict[str, str], bytes]:
    """Method, target, headers and body of one request signed now. ``signer``: ``acs3``
    (2020 POST form), ``v1``, ``get2024`` (2024 GET, query only) or ``post2024`` (2024 POST
    form, as the Tea SDK sends ListDeploymentPackages)."""
    if signer == "get2024":
        target, headers, body = get_2024(host, action, params)
        return "GET", target, headers, body
    if signer == "post2024":
        target, headers, body = acs3("POST", host, action, {}, params, V2024)
        return "POST", target, headers, body
    sign = sign_acs3 if signer == "acs3" else sign_v1
    headers, body = sign(host, action, params)
    return "POST", "/", headers, body


def write_batch(
    path: Path, host: str, requests: Iterable[tuple[str, dict[str, str]]], signer: str = "acs3"
) -> int:
    """Sign every ``(action, params)`` now and write them one a line; returns the count.
    ``signer`` as in :func:`signed`."""
    count = 0
    with path.open("wb") as fh:
        for action, params in requests:
            method, target, headers, body = signed(host, action, params, signer)
            raw = raw_request(headers, body, method, target)
            fh.write(raw.replace(b"\r\n", b"\t") + b"\n")
            count += 1
    return count


@dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    tool: str
    cpu_us_per_request: float = 0.0  # server CPU time per answered request


def wrk_available() -> bool:
    return shutil.which("wrk") is not None and os.environ.get("BENCH_NO_WRK") != "1"


def run_load(
    port: int, batch: Path, seconds: float, connections: int = 32, *, tool: str | None = None
) -> Result:
    """Send the pre-signed batch to ``127.0.0.1:port`` for ``seconds``."""
    if (tool or ("wrk" if wrk_available() else "python")) == "wrk":
        return _run_wrk(port, batch, seconds, connections)
    return asyncio.run(_run_python(port, batch, seconds, connections))


def _run_wrk(port: int, batch: Path, seconds: float, connections: int) -> Result:
    cmd = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(LUA), f"http://127.0.0.1:{port}/", "--", str(batch),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    d = json.loads(line)
    secs = d["duration_us"] / 1e6
    return Result(
        requests=d["requests"], seconds=secs, rps=d["requests"] / secs,
        p50_ms=d["p50_us"] / 1000, p90_ms=d["p90_us"] / 1000, p99_ms=d["p99_us"] / 1000,
        non_2xx=d["status"], socket_errors=d["connect"] + d["read"] + d["write"] + d["timeout"],
        tool="wrk",
    )  # fmt: skip


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def _run_python(port: int, batch: Path, seconds: float, connections: int) -> Result:
    lines = batch.read_bytes().splitlines()
    reqs = [ln.replace(b"\t", b"\r\n") for ln in lines]
    latencies: list[float] = []
    bad = errors = 0
    nxt = 0
    deadline = time.perf_counter() + seconds

    def take() -> bytes:
        nonlocal nxt
        nxt += 1
        return reqs[(nxt - 1) % len(reqs)]

    async def conn() -> None:
        nonlocal bad, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                writer.write(take())
                status, _ = await read_response(reader)
                latencies.append(time.perf_counter() - t)
                bad += not 200 <= status < 300
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(conn() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return _summary(latencies, elapsed, bad, errors, "python")


def _summary(lat: list[float], secs: float, bad: int, errors: int, tool: str) -> Result:
    lat.sort()

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0.0

    return Result(len(lat), secs, len(lat) / secs, pct(0.5), pct(0.9), pct(0.99), bad, errors, tool)


def temp_batch(prefix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".req", dir=os.environ.get("BENCH_TMP"))
    os.close(fd)
    return Path(name)
