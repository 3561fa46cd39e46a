"""Boundary values for every parameter of every operation, through HTTP: never a 5xx.

A server of its own (SQLite, or a fresh PostgreSQL schema when ``OPENWORKS_TEST_POSTGRES``
is set) holds a workspace with a workflow, a folder, a committed file, its node and its
deployment. Each operation gets a *base* request that names those real objects and fills
every required parameter, so a call gets past typing into the handler and the database;
then one parameter at a time is replaced by the boundary values of its type (0, -1, 2^31,
2^63, 23-digit and superscript or full-width digits, very long strings, JSON lists with
10^5 elements...). On top of these explicit cases, a capped hypothesis run mixes boundary
and random values over several parameters at once. Every answer is a 2xx, or a 4xx whose
body has ``Code``, ``Message`` and ``RequestId``; integers outside the contract's width
(docs/security.md, "Parameter bounds") are ``InvalidParameter``.
"""

from __future__ import annotations

import http.client
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openworks.api import HANDLERS, operations
from openworks.protocol.params import ParamSpec
from tests.unit.protocol.signer import sign_v1, v1_query

from .conftest import RunningServer, start_server

KEY, SECRET = "openworks-dev-key", "openworks-dev-secret"
nonces = itertools.count()
# Writes that destroy the objects the other cases name run last.
_LAST = ("OfflineNode", "DeleteFile", "DeleteFolder", "DeleteBusiness", "DeleteProjectMember")
NAMES = sorted(operations(), key=lambda n: (n in _LAST, _LAST.index(n) if n in _LAST else 0, n))

I31, I63 = 2**31, 2**63
BIG = "9" * 23
INT_CASES = [
    "0",
    "-1",
    str(I31 - 1),
    str(I31),
    str(-I31 - 1),
    str(2**40),
    str(I63 - 1),
    str(I63),
    str(-I63 - 1),
    BIG,
    "\u00b2",  # superscript two: str.isdigit() is true, int() refuses it
    "\uff11",  # full-width one: int() accepts it, the contract does not
    "1.5",
]
INT_LIST_CASES = [
    BIG,
    f"10,{BIG}",
    str(I31),
    str(I63),
    "10,\u00b2",
    "\uff11\uff10",
    ",",
    "10,,23",
    "10, 23,",
    ",".join(["1"] * 1001),
]
BOOL_CASES = ["true", "FALSE", "yes", "1", "\uff54rue"]
LIST_CASES = [
    "[]",
    '[{"Key":"k","Value":"v"}]',
    "[" + ",".join(['{"Key":"k"}'] * 21) + "]",
    '[{"Key":"\u00b2","Value":"\uff11"}]',
    '[{"Key":"k","Value":"\\u0000"}]',
    '[{"Key":1e400}]',
    f'[{{"Key":{BIG}}}]',
    "[" * 2000,
    "[{}" + ",{}" * 99_999 + "]",  # 10^5 elements
    "[" + ",".join(["1"] * 100_000) + "]",
]


# Column widths of the database (VARCHAR on PostgreSQL): a text one longer than each.
WIDTHS = (16, 32, 64, 128, 256, 512, 1024, 4095)


def str_cases(spec: ParamSpec) -> list[str]:
    # superscript and full-width digits pass str.isdigit(); LIKE wildcards, quotes, commas,
    # path steps and a character outside the BMP in one value
    cases = ["", "\u00b2\uff11", BIG, "%_'\\,a,../x/\U0001f600"]
    # longer than each width up to the parameter's own limit, then just over that limit
    cases += ["w" * (n + 1) for n in WIDTHS if n < spec.max_length]
    cases.append("v" * (spec.max_length + 1))
    return cases


def cases_for(spec: ParamSpec) -> list[str]:
    if spec.type == "int":
        return INT_CASES
    if spec.type == "int_list":
        return INT_LIST_CASES
    if spec.type == "bool":
        return BOOL_CASES
    if spec.type == "list":
        return LIST_CASES
    return str_cases(spec)


class Http:
    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            self.conn.request("POST", path, body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            # the server may close a connection after an error answer; one fresh retry
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request("POST", path, body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()


def send(
    client: Http, action: str, body: dict[str, str], extra_query: str = ""
) -> tuple[int, dict]:
    query = v1_query(KEY, f"fuzz-op-{time.time_ns()}-{next(nonces)}", time.time(), action)
    raw = sign_v1(SECRET, query, body)
    path = "/?" + raw.query_string.decode() + extra_query
    status, content = client.post(path, raw.body, dict(raw.headers))
    return status, json.loads(content)


def call(client: Http, action: str, **params: object) -> dict:
    status, document = send(client, action, {k: str(v) for k, v in params.items()})
    assert status == 200, (action, document)
    return document


def wait_final(client: Http, pid: int, did: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = call(client, "GetDeployment", ProjectId=pid, DeploymentId=did)["Data"]
        if got["Deployment"]["Status"] != 0:
            return
        time.sleep(0.05)


@dataclass
class World:
    client: Http
    base: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server: RunningServer = start_server(Path(tmp_path_factory.mktemp("fuzz-ops")))
    client = Http(server.port)
    try:
        ident = f"fuzz_ops_{time.time_ns()}"
        pid = call(client, "CreateProject", ProjectIdentifier=ident, ProjectName="fuzz")["Data"]
        bid = call(client, "CreateBusiness", ProjectId=pid, BusinessName="wf")["BusinessId"]
        folder = "业务流程/wf/MaxCompute/a"
        folder_id = call(client, "CreateFolder", ProjectId=pid, FolderPath=folder)["Data"]
        fid = call(
            client,
            "CreateFile",
            ProjectId=pid,
            FileName="f",
            FileType=10,
            FileFolderPath=folder,
            Content="select 1;",
        )["Data"]
        did = call(client, "SubmitFile", ProjectId=pid, FileId=fid)["Data"]
        wait_final(client, pid, did)
        wait_final(client, pid, call(client, "DeployFile", ProjectId=pid, FileId=fid)["Data"])
        nid = call(client, "GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]["NodeId"]
        members = call(client, "ListProjectMembers", ProjectId=pid)["Data"]
        user = members["ProjectMemberList"][0]["ProjectMemberId"]
        base = {
            "ProjectId": str(pid),
            "ProjectIdentifier": ident,
            "ProjectName": "fuzz",
            "BusinessId": str(bid),
            "BusinessName": "wf2",
            "FolderId": str(folder_id),
            "FolderPath": "业务流程/wf/MaxCompute/b",
            "FolderName": "a2",
            "ParentFolderPath": "业务流程/wf",
            "FileFolderPath": folder,
            "FileId": str(fid),
            "FileName": "g",
            "FileType": "10",
            "FileVersion": "1",
            "NodeId": str(nid),
            "DeploymentId": str(did),
            "ProjectEnv": "DEV",
            "UserId": str(user),
            "RoleCode": "role_project_dev",
            "EventCode": "commit-file",
            "MessageId": "m-1",
            "ExtensionCode": "ext",
            "CheckResult": "OK",
            "CheckerInstanceId": "c-1",
            "PageNumber": "1",
            "PageSize": "10",
        }
        yield World(client, base)
    finally:
        client.conn.close()
        server.stop()


# Optional parameters that the base request names too, so that calls reach an object.
_ALWAYS = (
    "ProjectId",
    "FileId",
    "PageNumber",
    "PageSize",
    "MessageId",
    "CheckResult",
    "ExtensionCode",
)


_FRESH = {
    ("CreateProject", "ProjectIdentifier"): "fuzz_new_{n}",
    ("CreateFile", "FileName"): "new_{n}",
    ("CreateBusiness", "BusinessName"): "wf_{n}",
    ("CreateFolder", "FolderPath"): "业务流程/wf/MaxCompute/new_{n}",
}


def base_request(world: World, action: str) -> dict[str, str]:
    """Every required parameter (and one of each ``one_of`` group) from the real objects."""
    specs = operations()[action].params
    body: dict[str, str] = {}
    for spec in specs:
        wanted = spec.required or (spec.one_of is not None and spec.one_of[0] == spec.name)
        if wanted or spec.name in _ALWAYS:
            if (action, spec.name) in _FRESH:  # a new name, so that the create goes through
                body[spec.name] = _FRESH[action, spec.name].format(n=next(nonces))
            elif spec.name == "Status":
                body[spec.name] = "OK" if spec.type == "str" else "1"
            elif spec.name in world.base:
                body[spec.name] = world.base[spec.name]
            else:
                body[spec.name] = "1" if spec.type == "int" else "x"
    return body


def check(status: int, document: dict, what: object) -> None:
    assert problem(status, document) is None, (what, status, document)


def out_of_width(spec: ParamSpec, text: str) -> bool:
    if spec.type != "int" or not text.lstrip("-").isascii() or not text.lstrip("-").isdigit():
        return False
    low, high = spec.bounds
    return not low <= int(text) <= high


# -- the 500s of issue 13 item 5, one by one --------------------------------------------

LIST_OPERATIONS = sorted(
    name
    for name, op in operations().items()
    if name in HANDLERS and any(p.name == "PageNumber" for p in op.params)
)


@pytest.mark.parametrize("action", LIST_OPERATIONS)
def test_page_number_at_int64_max_is_invalid_parameter(world: World, action: str) -> None:
    # was: SQLite OverflowError / PostgreSQL "bigint out of range" computing the offset
    body = {**base_request(world, action), "PageNumber": str(I63 - 1), "PageSize": "100"}
    status, document = send(world.client, action, body)
    assert (status, document["Code"]) == (400, "InvalidParameter"), document
    assert "PageNumber" in document["Message"]
    assert f"between 1 and {I31 - 1}" in document["Message"]


@pytest.mark.parametrize("action", LIST_OPERATIONS)
def test_last_page_number_answers_an_empty_page(world: World, action: str) -> None:
    # the largest accepted page, at the largest size: the offset fits a 64-bit parameter
    body = {**base_request(world, action), "PageNumber": str(I31 - 1), "PageSize": "100"}
    status, document = send(world.client, action, body)
    assert status == 200, document


@pytest.mark.parametrize(
    ("action", "name", "value"),
    [
        ("ListFiles", "FileTypes", BIG),
        ("ListFiles", "FileTypes", str(2**40)),
        ("ListFiles", "FileIdIn", BIG),
        ("ListFiles", "FileIdIn", f"1,{I63}"),
        ("GetFileVersion", "FileVersion", str(2**40)),
        ("ListDeployments", "Status", str(2**40)),
        ("ListFileVersions", "PageSize", str(2**40)),
        ("CreateFile", "FileType", str(2**40)),
        ("UpdateFile", "AutoRerunTimes", str(2**40)),
        ("GetFile", "FileId", BIG),
        ("GetDeployment", "DeploymentId", str(I63)),
    ],
)
def test_out_of_range_integers_are_invalid_parameter(
    world: World, action: str, name: str, value: str
) -> None:
    # was: "integer out of range" on PostgreSQL (32-bit columns), OverflowError on SQLite
    body = {**base_request(world, action), name: value}
    status, document = send(world.client, action, body)
    assert (status, document["Code"]) == (400, "InvalidParameter"), document
    assert f'"{name}"' in document["Message"] and "must be between" in document["Message"]


@pytest.mark.parametrize(
    ("action", "name", "width"),
    [
        ("CreateFile", "Owner", 64),
        ("UpdateFile", "Owner", 64),
        ("UpdateFile", "ConnectionName", 256),
        ("CreateBusiness", "Owner", 64),
        ("UpdateBusiness", "Owner", 64),
        ("CreateProject", "ClientToken", 128),
        ("CreateProject", "ResourceManagerResourceGroupId", 128),
    ],
)
def test_texts_longer_than_their_column_are_invalid_parameter(
    world: World, action: str, name: str, width: int
) -> None:
    # was: stored as given on SQLite, "value too long" (500) on PostgreSQL
    body = {**base_request(world, action), name: "x" * (width + 1)}
    status, document = send(world.client, action, body)
    assert (status, document["Code"]) == (400, "InvalidParameter"), document
    assert f"longer than {width} characters" in document["Message"]


def test_comma_separated_lists_in_range_still_filter(world: World) -> None:
    pid, fid = world.base["ProjectId"], world.base["FileId"]
    found = call(world.client, "ListFiles", ProjectId=pid, FileTypes="10, 23,", FileIdIn=fid)
    assert [f["FileId"] for f in found["Data"]["Files"]] == [int(fid)]
    none = call(world.client, "ListFiles", ProjectId=pid, FileTypes=str(I31 - 1))
    assert none["Data"]["Files"] == []


def test_a_json_list_of_10_5_elements_is_refused_quickly(world: World) -> None:
    started = time.monotonic()
    for text in ("[{}" + ",{}" * 99_999 + "]", "[" + ",".join(["1"] * 100_000) + "]"):
        status, document = send(world.client, "ListProjects", {"Tags": text})
        assert (status, document["Code"]) == (400, "InvalidParameter"), document
        assert '"Tags"' in document["Message"]
    assert time.monotonic() - started < 10  # typically well under a second


# -- every operation, every parameter, one boundary value at a time ------------------
# (after the cases above: the destructive writes at its end remove the shared objects)


def problem(status: int, document: dict) -> str | None:
    """What is wrong with an answer, or None."""
    if status >= 500:
        return f"{status} {document.get('Code')}"
    if not document.get("RequestId"):
        return "no RequestId"
    if status >= 400 and not (document.get("Code") and document.get("Message")):
        return "error without Code or Message"
    return None


@pytest.mark.parametrize("action", NAMES)
def test_boundary_values_of_every_parameter(world: World, action: str) -> None:
    base = base_request(world, action)
    implemented = action in HANDLERS
    wrong: list[tuple[str, str, str]] = []
    status, document = send(world.client, action, base)
    if (why := problem(status, document)) is not None:
        wrong.append(("base", "", why))
    # names and values the wire decoding refuses: NUL, a lone surrogate, broken escapes
    for extra in ("&X=%00", "&X=%ED%A0%80", "&%ED%A0%80=1"):
        status, document = send(world.client, action, base, extra)
        why = problem(status, document)
        if why is None and status != 400 and (implemented or status != 404):
            why = f"{status} {document.get('Code')}, not 400"
        if why is not None:
            wrong.append(("query", extra, why))
    for spec in operations()[action].params:
        for value in cases_for(spec):
            status, document = send(
                world.client, action, {**base_request(world, action), spec.name: value}
            )
            why = problem(status, document)
            if why is None and implemented and out_of_width(spec, value):
                message = document.get("Message", "")
                if (status, document.get("Code")) != (400, "InvalidParameter"):
                    why = f"{status} {document.get('Code')}, not InvalidParameter"
                elif f'"{spec.name}"' not in message or "must be between" not in message:
                    why = f"message without the range: {message}"
            if why is not None:
                wrong.append((spec.name, value[:40], why))
    assert not wrong, "\n".join(f"{action} {name}={value!r}: {why}" for name, value, why in wrong)


# -- a capped random mix ----------------------------------------------------------------


def value_for(spec: ParamSpec) -> st.SearchStrategy[str]:
    boundary = st.sampled_from(cases_for(spec))
    if spec.type == "int":
        low, high = spec.bounds
        edges = st.integers(low - 2, low + 2) | st.integers(high - 2, high + 2)
        return boundary | edges.map(str) | st.integers(-(2**70), 2**70).map(str)
    return boundary | st.text(max_size=60)


@st.composite
def mixed_requests(draw: st.DrawFn, world: World) -> tuple[str, dict[str, str]]:
    action = draw(st.sampled_from(sorted(HANDLERS)))
    params = operations()[action].params
    chosen = draw(st.lists(st.sampled_from(params), unique_by=lambda p: p.name, max_size=4))
    body = base_request(world, action)
    body.update({p.name: draw(value_for(p)) for p in chosen})
    return action, body


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_mixes_of_boundary_values_never_5xx(world: World, data: st.DataObject) -> None:
    action, body = data.draw(mixed_requests(world))
    status, document = send(world.client, action, body)
    check(status, document, (action, {k: v[:40] for k, v in body.items()}))
