"""Random and malformed requests against every operation: never a 5xx.

Requests are signed correctly (so they reach decoding, typing and the handlers) and carry
random values — well-typed, wrongly typed, huge, empty, unicode — for random subsets of the
operation's parameters. Every answer must be a 2xx, or a 4xx envelope with a Code.
"""

from __future__ import annotations

import http.client
import itertools
import json
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from openworks.api import operations
from tests.unit.protocol.signer import sign_v1, v1_query

from .conftest import RunningServer

KEY, SECRET = "openworks-dev-key", "openworks-dev-secret"
NAMES = sorted(operations())
nonces = itertools.count()


class Http:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        self.conn.request("POST", path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()


@pytest.fixture(scope="module")
def http_client(server: RunningServer) -> Iterator[Http]:
    client = Http(server.port)
    # a workspace and a file so that some random ids hit real objects
    status, body = send(
        client, "CreateProject", {"ProjectIdentifier": f"fuzz_{time.time_ns()}", "ProjectName": "f"}
    )
    assert status == 200, body
    send(client, "CreateFile", {"ProjectId": str(body["Data"]), "FileName": "f", "FileType": "10"})
    yield client
    client.conn.close()


def send(client: Http, action: str, body: dict[str, str]) -> tuple[int, dict]:
    query = v1_query(KEY, f"fuzz-{time.time_ns()}-{next(nonces)}", time.time(), action)
    raw = sign_v1(SECRET, query, body)
    status, content = client.post("/?" + raw.query_string.decode(), raw.body, dict(raw.headers))
    return status, json.loads(content)


def value_for(kind: str) -> st.SearchStrategy[str]:
    junk = st.one_of(
        st.text(max_size=40),
        st.sampled_from(["", "None", "null", "-1", "0", "9" * 30, "True", "[]", "{}", "1e309"]),
        # longer than the narrow columns (64, 128, 256 characters) and than the 4 KiB limit
        st.sampled_from(["x" * 65, "y" * 129, "z" * 257, "w" * 4097]),
    )
    typed = {
        "int": st.integers(-(2**70), 2**70).map(str) | st.sampled_from(["10001", "500000001"]),
        "bool": st.sampled_from(["True", "False", "true", "yes"]),
        "list": st.sampled_from(['[{"Key":"k","Value":"v"}]', "[1,2]", '[{"Key":1}]', "[{]"]),
        "int_list": st.lists(st.integers(-(2**70), 2**70).map(str), max_size=4).map(",".join),
        "float": st.floats(allow_nan=True).map(str),
    }.get(kind, st.text(max_size=80))
    return st.one_of(typed, junk)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    name = draw(st.sampled_from(NAMES))
    params = operations()[name].params
    chosen = draw(st.lists(st.sampled_from(params), unique_by=lambda p: p.name, max_size=8))
    body = {p.name: draw(value_for(p.type)) for p in chosen}
    return name, body


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(requests())
@example(call=("GetExtension", {"ExtensionCode": "\x00"}))  # PostgreSQL text refuses NUL
@example(call=("CreateFile", {"ProjectId": "1", "FileName": "f", "Content": "a\x00"}))
def test_random_operation_calls_never_5xx(
    http_client: Http, call: tuple[str, dict[str, str]]
) -> None:
    action, body = call
    status, document = send(http_client, action, body)
    assert status < 500, (action, body, document)
    if status >= 400:
        assert document["Code"] and document["Message"] and document["RequestId"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=200),
    st.dictionaries(
        st.sampled_from(
            ["content-type", "authorization", "x-acs-action", "x-acs-version", "x-acs-date"]
        ),
        st.text(max_size=40),
    ),
    st.binary(max_size=100),
)
def test_malformed_raw_requests_never_5xx(
    http_client: Http, query: bytes, headers: dict[str, str], body: bytes
) -> None:
    # http.client refuses control characters in header values; everything else goes through
    safe_headers = {
        k: "".join(c for c in v if 32 <= ord(c) < 256 and c != "\x7f").strip()
        for k, v in headers.items()
    }
    qs = urlencode({"q": query.decode("latin-1")}) if query else ""
    status, content = http_client.post("/?" + qs, body, safe_headers)
    assert status < 500
    assert json.loads(content)["Code"]
