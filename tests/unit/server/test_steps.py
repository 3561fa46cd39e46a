"""Each step of the API pipeline alone (openworks.server.pipeline, .admission, .fastpaths),
and the application's handling of ``/``."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openworks.api import Call, operations
from openworks.config import Settings
from openworks.core.model import Principal
from openworks.protocol import (
    ApiError,
    Credential,
    MemoryNonceCache,
    Signed,
    Throttled,
    identify,
    missing_parameter,
)
from openworks.protocol.throttle import InflightGate
from openworks.server import Service, build_service, create_app
from openworks.server.admission import admit, take_slot
from openworks.server.asgi import App
from openworks.server.fastpaths import FastPaths, choose_fast_paths, small_read
from openworks.server.pipeline import (
    AuditNote,
    Disconnected,
    audit,
    authenticate,
    decode,
    handle,
    header_map,
    log_access,
    read_body,
    render,
    render_failure,
    resolve_operation,
    respond,
    type_params,
)
from openworks.store.audit_writer import Queued
from tests.unit.protocol.signer import HOST, sign_acs3, sign_v1, v1_query

KEY, SECRET = "openworks-dev-key", "openworks-dev-secret"
ALICE = Principal("1000", "2000", "alice")
Message = dict[str, Any]


def run(coro: Awaitable[Any]) -> Any:
    async def go() -> Any:
        return await coro

    return asyncio.run(go())


def messages(*items: Message, delay: float = 0.0) -> Callable[[], Awaitable[Message]]:
    """An ASGI receive that hands out ``items`` in order, the later ones after ``delay``."""
    queue = list(items)
    served = 0

    async def receive() -> Message:
        nonlocal served
        if served and delay:
            await asyncio.sleep(delay)
        served += 1
        return queue.pop(0)

    return receive


def scope_of(raw: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": raw.method,
        "path": raw.path,
        "query_string": raw.query_string,
        "headers": [(k.encode(), v.encode()) for k, v in raw.headers.items()],
    }


def signed_call(action: str = "GetDeployment", **body: str) -> tuple[Any, dict[str, str], Signed]:
    raw = sign_acs3(KEY, SECRET, uuid.uuid4().hex, time.time(), body=body, action=action)
    _, params, _ = decode(scope_of(raw), dict(raw.headers), raw.body)
    return raw, params, identify(raw, params)


def code_of(err: pytest.ExceptionInfo[ApiError]) -> str:
    return err.value.code


# -- read_body -------------------------------------------------------------------------------


def test_header_map_lowers_names_and_joins_repeats() -> None:
    scope = {"headers": [(b"Host", b"h"), (b"X-A", b"1"), (b"x-a", b"2")]}
    assert header_map(scope) == {"host": "h", "x-a": "1,2"}


def test_read_body_one_message() -> None:
    receive = messages({"type": "http.request", "body": b"a=1"})
    assert run(read_body(receive, "3", 10, 1.0)) == b"a=1"


def test_read_body_joins_chunks() -> None:
    receive = messages(
        {"type": "http.request", "body": b"a=", "more_body": True},
        {"type": "http.request", "body": b"1", "more_body": False},
    )
    assert run(read_body(receive, None, 10, 1.0)) == b"a=1"


def test_read_body_refuses_a_declared_length_over_the_limit_without_reading() -> None:
    async def receive() -> Message:
        raise AssertionError("read")

    with pytest.raises(ApiError) as err:
        run(read_body(receive, "11", 10, 1.0))
    assert code_of(err) == "RequestBodyTooLarge" and err.value.status == 413


def test_read_body_refuses_a_stream_over_the_limit() -> None:
    receive = messages(
        {"type": "http.request", "body": b"x" * 8, "more_body": True},
        {"type": "http.request", "body": b"x" * 8, "more_body": False},
    )
    with pytest.raises(ApiError) as err:
        run(read_body(receive, None, 10, 1.0))
    assert code_of(err) == "RequestBodyTooLarge"


def test_read_body_client_gone() -> None:
    with pytest.raises(Disconnected):
        run(read_body(messages({"type": "http.disconnect"}), "5", 10, 1.0))


def test_read_body_deadline() -> None:
    receive = messages(
        {"type": "http.request", "body": b"a", "more_body": True},
        {"type": "http.request", "body": b"b", "more_body": False},
        delay=1.0,
    )
    with pytest.raises(ApiError) as err:
        run(read_body(receive, None, 10, 0.05))
    assert code_of(err) == "RequestTimeout" and err.value.status == 408


# -- take_slot, admit --------------------------------------------------------------------------


def test_take_slot_bounds_requests_in_flight() -> None:
    gate = InflightGate(1)
    take_slot(gate)
    with pytest.raises(Throttled) as err:
        take_slot(gate)
    assert err.value.code == "Throttling.System" and err.value.status == 429
    gate.leave()
    take_slot(gate)


class FakeLimiter:
    def __init__(self, blocking: bool) -> None:
        self.blocking = blocking
        self.calls: list[tuple[str, str, bool]] = []

    def admit(self, account: str, operation: str, is_read: bool) -> None:
        self.calls.append((account, operation, is_read))
        if operation == "DeleteFile":
            raise Throttled("Throttling.Api", "slow down", 1000)


@pytest.mark.parametrize("blocking", [False, True])
def test_admit_asks_the_limiter(blocking: bool) -> None:
    limiter = FakeLimiter(blocking)
    run(admit(limiter, "1000", "GetDeployment", True))
    with pytest.raises(Throttled):
        run(admit(limiter, "1000", "DeleteFile", False))
    assert limiter.calls == [("1000", "GetDeployment", True), ("1000", "DeleteFile", False)]


# -- decode, resolve_operation -----------------------------------------------------------------


def test_decode_merges_query_and_form_body_and_picks_the_format() -> None:
    raw = sign_v1(SECRET, {**v1_query(KEY, "n", time.time()), "Format": "xml"}, {"ProjectId": "7"})
    scope = scope_of(raw)
    decoded, params, fmt = decode(scope, dict(raw.headers), raw.body)
    assert decoded.body == raw.body and decoded.method == "POST"
    assert params["Action"] == "GetDeployment" and params["ProjectId"] == "7"
    assert fmt == "XML"


def test_decode_refuses_nul() -> None:
    scope = {"method": "POST", "path": "/", "query_string": b"A=%00", "headers": []}
    with pytest.raises(ApiError) as err:
        decode(scope, {}, b"")
    assert code_of(err) == "InvalidParameter"


def test_resolve_operation_by_action_and_version() -> None:
    _, _, signed = signed_call("GetDeployment")
    assert resolve_operation(signed).name == "GetDeployment"


@pytest.mark.parametrize(
    ("action", "version", "code"),
    [
        (None, "2020-05-18", "MissingParameter"),
        ("", "2020-05-18", "MissingParameter"),
        ("NoSuchThing", "2020-05-18", "InvalidApi.NotFound"),
        ("NoSuchThing", "2024-05-18", "InvalidApi.NotFound"),  # Action checked first
        ("GetDeployment", "2019-01-01", "InvalidVersion"),
        ("GetDeployment", None, "InvalidVersion"),
    ],
)
def test_resolve_operation_refusals(action: str | None, version: str | None, code: str) -> None:
    _, _, signed = signed_call("GetDeployment")
    with pytest.raises(ApiError) as err:
        resolve_operation(dataclasses.replace(signed, action=action, version=version))
    assert code_of(err) == code


# -- authenticate ----------------------------------------------------------------------------


def lookup(access_key_id: str) -> Credential | None:
    return Credential(KEY, SECRET, True, ALICE) if access_key_id == KEY else None


def test_authenticate_checks_key_signature_and_nonce() -> None:
    raw, params, signed = signed_call("GetDeployment", ProjectId="1")
    nonces = MemoryNonceCache()
    credential = authenticate(raw, params, signed, lookup, nonces, None)
    assert credential.principal == ALICE and credential.access_key_id == KEY
    with pytest.raises(ApiError) as err:  # the nonce is spent
        authenticate(raw, params, signed, lookup, nonces, None)
    assert code_of(err) == "SignatureNonceUsed"
    raw, params, signed = signed_call("GetDeployment", ProjectId="1")
    with pytest.raises(ApiError) as err:
        authenticate(raw, params, signed, lambda _key: None, nonces, None)
    assert code_of(err) == "InvalidAccessKeyId.NotFound"


def test_authenticate_asks_security_for_the_lookup() -> None:
    raw, params, signed = signed_call("GetDeployment")
    asked: list[object] = []

    class Security:
        def lookup(self, keys: object, raw: object, params: object) -> object:
            asked.append(keys)
            return lambda _key: None  # every key unknown to it

    with pytest.raises(ApiError) as err:
        authenticate(raw, params, signed, lookup, MemoryNonceCache(), Security())  # type: ignore[arg-type]
    assert asked == [lookup] and code_of(err) == "InvalidAccessKeyId.NotFound"


# -- type_params, render, render_failure ------------------------------------------------------


def test_type_params_types_declared_parameters_only() -> None:
    operation = operations()["GetDeployment"]
    typed = type_params(operation, {"ProjectId": "7", "DeploymentId": "9", "Other": "x"})
    assert typed == {"ProjectId": 7, "DeploymentId": 9}
    with pytest.raises(ApiError) as err:
        type_params(operation, {"ProjectId": "seven", "DeploymentId": "9"})
    assert code_of(err) == "InvalidParameter"


@pytest.mark.parametrize(
    ("fmt", "content_type", "start"),
    [("JSON", "application/json", b"{"), ("XML", "application/xml", b"<?xml")],
)
def test_render_adds_the_request_id(fmt: str, content_type: str, start: bytes) -> None:
    document: dict[str, Any] = {"Success": True, "Data": {"Name": "x"}}
    content, got_type = render(operations()["GetDeployment"], document, "RID", fmt)
    assert document["RequestId"] == "RID" and b"RID" in content
    assert got_type.startswith(content_type) and content.startswith(start)


def test_render_failure_is_the_error_envelope() -> None:
    status, content_type, content, extra = render_failure(
        missing_parameter("Action"), "RID", "example:8080", "JSON"
    )
    document = json.loads(content)
    assert status == 400 and content_type.startswith("application/json")
    assert document["Code"] == "MissingParameter" and document["HostId"] == "example:8080"
    assert document["RequestId"] == "RID" and "content-type" not in extra


# -- handle (dispatch + render), with a real service --------------------------------------------


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    service = build_service(
        Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", run_worker=False)
    )
    yield service
    service.engine.dispose()


def test_handle_runs_the_handler_and_renders(service: Service) -> None:
    operation = operations()["ListProjects"]
    principal = Principal(service.settings.account_id, service.settings.account_id, "root")
    call = Call(service.core, principal)
    document, (content, content_type) = handle(operation, call, {}, "RID", "JSON")
    assert document["PageResult"]["TotalCount"] == 0 and document["RequestId"] == "RID"
    assert json.loads(content) == document and content_type.startswith("application/json")


# -- audit, log_access, respond ----------------------------------------------------------------


def test_audit_note_records_what_was_sent_until_typed() -> None:
    operation = operations()["DeleteFile"]
    credential = Credential(KEY, SECRET, True, ALICE)
    params = {"ProjectId": "7", "FileId": "x", "Action": "DeleteFile"}
    note = AuditNote.of(credential, ALICE, operation, params)
    assert note.params == {"ProjectId": "7", "FileId": "x"}  # declared parameters only
    note.typed = {"ProjectId": 7, "FileId": 9}
    assert note.params == {"ProjectId": 7, "FileId": 9}
    assert (note.version, note.project_param) == ("2020-05-18", "ProjectId")


def test_audit_hands_the_row_to_the_writer_and_answers_once_it_is_committed() -> None:
    rows: list[dict[str, Any]] = []
    queued: list[Queued] = []

    class Writer:
        @staticmethod
        def queued(entry: object) -> Queued:
            item = Queued({"entry": entry}, True, 1)
            queued.append(item)
            return item

        def offer(self, item: Queued) -> bool:
            return True

    class Security:
        writer = Writer()

        def audit_entry(self, **row: Any) -> str:
            rows.append(row)
            return "entry"

    async def call_and_commit_later() -> bool:
        step = asyncio.ensure_future(
            audit(Security(), note, "DeleteFile", 200, "OK", "RID", {"Data": True})  # type: ignore[arg-type]
        )
        await asyncio.sleep(0.02)
        waiting = not step.done()  # the row is queued, not committed: the call waits
        queued[0].future.set_result(True)  # the writer committed it
        await step
        return waiting

    note = AuditNote(ALICE, KEY, {"ProjectId": "7"}, "2020-05-18", "ProjectId", 1, {"ProjectId": 7})
    assert run(call_and_commit_later())
    assert rows == [
        {"principal": ALICE, "access_key_id": KEY, "action": "DeleteFile",
         "params": {"ProjectId": 7}, "version": "2020-05-18", "project_param": "ProjectId",
         "status": 200, "code": "OK", "request_id": "RID", "document": {"Data": True}}
    ]  # fmt: skip
    assert len(queued) == 1 and queued[0].row == {"entry": "entry"}


@pytest.mark.parametrize("json_fields", [False, True])
def test_log_access_one_line(json_fields: bool, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="openworks.access"):
        log_access("GetDeployment", 200, "OK", 1.26, "RID", "1000", json_fields)
    (record,) = caplog.records
    assert record.getMessage() == "GetDeployment 200 1.3ms RID account=1000"
    fields = {"request_id": "RID", "action": "GetDeployment", "account": "1000",
              "status": 200, "code": "OK", "ms": 1.3}  # fmt: skip
    present = {name: record.__dict__[name] for name in fields if name in record.__dict__}
    assert present == (fields if json_fields else {})


def test_respond_sends_start_and_body() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    run(respond(send, 404, "text/plain", b"nope", {"x-acs-request-id": "RID"}))
    assert sent == [
        {"type": "http.response.start", "status": 404,
         "headers": [(b"content-type", b"text/plain"), (b"content-length", b"4"),
                     (b"x-acs-request-id", b"RID")]},
        {"type": "http.response.body", "body": b"nope"},
    ]  # fmt: skip


# -- fast paths ------------------------------------------------------------------------------


def test_small_reads_are_gets_without_content() -> None:
    table = operations()
    assert small_read("GetDeployment", table["GetDeployment"].response)
    assert not small_read("GetFile", table["GetFile"].response)  # carries file content
    assert not small_read("ListDeployments", table["ListDeployments"].response)
    v2024 = operations("2024-05-18")
    assert small_read("GetPipelineRun", v2024["GetPipelineRun"].response)
    assert small_read("GetProject", v2024["GetProject"].response)
    assert not small_read("GetNode", v2024["GetNode"].response)  # its Spec carries the code
    assert not small_read("GetTask", v2024["GetTask"].response)  # carries content


def test_fast_paths_only_where_nothing_waits() -> None:
    table, v2024 = operations(), operations("2024-05-18")
    every = [*table.values(), *v2024.values()]
    sqlite = Settings(database_url="sqlite:////tmp/x.db", log_format="json")
    fast = choose_fast_paths(sqlite, MemoryNonceCache(), every)
    assert table["GetDeployment"] in fast.inline_reads
    assert v2024["GetPipelineRun"] in fast.inline_reads
    assert table["GetFile"] not in fast.inline_reads
    # one name, two versions: 2020 GetNode is small, 2024 GetNode carries a spec
    assert table["GetNode"] in fast.inline_reads and v2024["GetNode"] not in fast.inline_reads
    assert fast.inline_auth and fast.json_fields
    postgres = Settings(database_url="postgresql+psycopg://u@h/db")
    assert choose_fast_paths(postgres, MemoryNonceCache(), every) == FastPaths()
    shared = choose_fast_paths(sqlite, object(), every)  # type: ignore[arg-type]
    assert shared.inline_reads and not shared.inline_auth


def test_nonce_file_authenticates_on_the_loop(tmp_path: Path) -> None:
    """Several processes on one SQLite file share the nonce file (a few µs, no network):
    authentication stays on the event loop; the PostgreSQL table would not."""
    from openworks.store import make_engine
    from openworks.store.nonces import DatabaseNonceCache

    sqlite = Settings(database_url=f"sqlite:///{tmp_path}/x.db", processes=2)
    engine = make_engine(sqlite.database_url)
    try:
        shared = DatabaseNonceCache(engine)
        assert shared.file is not None
        assert choose_fast_paths(sqlite, shared, operations().values()).inline_auth
        shared.file.close()
    finally:
        engine.dispose()


# -- the application: "/" served once ----------------------------------------------------------


def request(app: object, method: str, path: str = "/") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as client:
            return await client.request(method, path)

    return asyncio.run(go())


def test_root_is_served_by_the_pipeline_only(service: Service) -> None:
    app = create_app(service)
    assert isinstance(app, App) and app.api is not None
    assert not [r for r in app.routes if getattr(r, "path", None) == "/"]
    for method in ("GET", "POST", "HEAD"):  # unsigned: the pipeline's own refusal
        response = request(app, method)
        assert response.status_code == 400 and "x-acs-request-id" in response.headers
    response = request(app, "PUT")
    assert response.status_code == 405 and response.text == "Method Not Allowed"
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert request(app, "GET", "/healthz").json() == {"status": "ok"}


def test_openworks_app_keeps_its_names() -> None:
    import openworks.app
    import openworks.server

    for name in ("App", "KeyCache", "Service", "app_from_env", "build_service", "create_app"):
        assert getattr(openworks.app, name) is getattr(openworks.server, name)
