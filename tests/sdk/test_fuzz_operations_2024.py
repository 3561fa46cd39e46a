"""Boundary values for every parameter of every served 2024-05-18 operation: never a 5xx.

The 2020 fuzzing (test_fuzz_operations.py) for the other face: a server of its own holds a
workspace with a workflow, a node (a file), its deployment and a pipeline run; each
operation gets a base request naming those objects, then one parameter at a time takes the
boundary values of its type. Every answer is a 2xx, or a 4xx with ``Code``, ``Message`` and
``RequestId``; integers outside the contract's width are ``InvalidParameter``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openworks.api import handlers, table
from tests.unit.protocol.signer import sign_v1, v1_query

from .conftest import RunningServer, start_server
from .test_fuzz_operations import (
    KEY,
    SECRET,
    Http,
    cases_for,
    nonces,
    out_of_width,
    problem,
    wait_final,
)

V2024 = "2024-05-18"
SERVED = handlers(V2024)
# Writes that remove the objects the other cases name run last.
_LAST = ("DeleteNode", "DeleteWorkflowDefinition", "DeleteProjectMember", "DeleteProject")
NAMES = sorted(
    (n for n in table(V2024) if n in SERVED),
    key=lambda n: (n in _LAST, _LAST.index(n) if n in _LAST else 0, n),
)


def send(client: Http, action: str, params: dict[str, str], version: str = V2024) -> tuple:
    query = {
        **v1_query(KEY, f"fuzz-24-{time.time_ns()}-{next(nonces)}", time.time(), action),
        "Version": version,
    }
    raw = sign_v1(SECRET, query, params)
    status, content = client.post("/?" + raw.query_string.decode(), raw.body, dict(raw.headers))
    return status, json.loads(content)


def call(client: Http, action: str, version: str = V2024, **params: object) -> dict:
    status, document = send(client, action, {k: str(v) for k, v in params.items()}, version)
    assert status == 200, (action, document)
    return document


class World:
    def __init__(self, client: Http, base: dict[str, str]) -> None:
        self.client = client
        self.base = base


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server: RunningServer = start_server(Path(tmp_path_factory.mktemp("fuzz-24")))
    client = Http(server.port)
    v20 = "2020-05-18"
    try:
        ident = f"fuzz_24_{time.time_ns()}"
        pid = call(client, "CreateProject", v20, ProjectIdentifier=ident, ProjectName="f")["Data"]
        bid = call(client, "CreateBusiness", v20, ProjectId=pid, BusinessName="wf")["BusinessId"]
        fid = call(
            client,
            "CreateFile",
            v20,
            ProjectId=pid,
            FileName="f",
            FileType=10,
            Content="select 1;",
        )["Data"]
        did = call(client, "SubmitFile", v20, ProjectId=pid, FileId=fid)["Data"]
        wait_final(client, pid, did)
        members = call(client, "ListProjectMembers", v20, ProjectId=pid)["Data"]
        user = members["ProjectMemberList"][0]["ProjectMemberId"]
        base = {
            "ProjectId": str(pid),
            "Id": str(fid),
            "Name": "renamed",
            "DisplayName": "fuzz",
            "Path": "fuzz/renamed",
            "ContainerId": str(bid),
            "Scene": "DATAWORKS_PROJECT",
            "Spec": json.dumps(
                {
                    "version": "1.1.0",
                    "kind": "Node",
                    "spec": {
                        "nodes": [
                            {
                                "name": "n",
                                "script": {
                                    "path": "fuzz/n",
                                    "runtime": {"command": "ODPS_SQL"},
                                    "content": "select 1;",
                                },
                            }
                        ]
                    },
                }
            ),
            "Type": "Online",
            "ObjectIds": json.dumps([str(fid)]),
            "Code": "DEV_CHECK",
            "UserId": str(user),
            "RoleCodes": '["role_project_dev"]',
            "FileId": str(fid),
            "DeploymentId": str(did),
            "PageNumber": "1",
            "PageSize": "10",
        }
        yield World(client, base)
    finally:
        client.conn.close()
        server.stop()


_ALWAYS = ("ProjectId", "PageNumber", "PageSize")


def base_request(world: World, action: str) -> dict[str, str]:
    body: dict[str, str] = {}
    for spec in table(V2024)[action].params:
        if spec.required or spec.name in _ALWAYS:
            if action == "CreateProject" and spec.name == "Name":
                body[spec.name] = f"fuzz_new_{next(nonces)}"
            elif spec.name in world.base:
                body[spec.name] = world.base[spec.name]
            else:
                body[spec.name] = "1" if spec.type == "int" else "x"
    return body


@pytest.mark.parametrize("action", NAMES)
def test_boundary_values_of_every_2024_parameter(world: World, action: str) -> None:
    wrong: list[tuple[str, str, str]] = []
    status, document = send(world.client, action, base_request(world, action))
    if (why := problem(status, document)) is not None:
        wrong.append(("base", "", why))
    for spec in table(V2024)[action].params:
        for value in cases_for(spec):
            status, document = send(
                world.client, action, {**base_request(world, action), spec.name: value}
            )
            why = problem(status, document)
            refused = (status, document.get("Code")) == (400, "InvalidParameter")
            if why is None and out_of_width(spec, value) and not refused:
                why = f"{status} {document.get('Code')}, not InvalidParameter"
            if why is not None:
                wrong.append((spec.name, value[:40], why))
    assert not wrong, "\n".join(f"{action} {name}={value!r}: {why}" for name, value, why in wrong)


def test_every_served_2024_operation_is_fuzzed() -> None:
    assert set(NAMES) == set(SERVED)
