"""Operation tables per API version: dispatch on (Action, Version), the overlay as the only
place besides the contract where an operation's facts live, 2024-05-18 served group by group."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import openworks.api  # registers every handler
from openworks.api import API_VERSION, VERSIONS, Call, dispatch, handlers, operations, resolve
from openworks.api import spec as spec_module
from openworks.api.overlay import Access, Op, Overlay, ParamRules
from openworks.api.registry import handles
from openworks.api.spec import build, contract, table
from openworks.api.versions import OVERLAYS
from openworks.api.versions.v2020_05_18 import OPERATIONS
from openworks.core.model import Principal
from openworks.core.roles import Permission, Rule
from openworks.protocol import ApiError
from openworks.protocol.errors import api_not_found, invalid_version

V2020, V2024 = "2020-05-18", "2024-05-18"
SRC = Path(__file__).resolve().parents[3] / "src" / "openworks"
CONTRACT_2024 = sorted(contract(V2024))


def _refusal(action: str, version: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        resolve(action, version)
    return caught.value


def _same(error: ApiError, expected: ApiError) -> bool:
    return (error.code, error.message, error.status) == (
        expected.code,
        expected.message,
        expected.status,
    )


# -- the versions and their contracts -------------------------------------------------------


def test_the_known_versions() -> None:
    assert VERSIONS == (V2020, V2024) == tuple(OVERLAYS)
    assert API_VERSION == V2020
    assert len(contract(V2020)) == 48 and len(contract(V2024)) == 94
    assert all(entry["version"] == V2024 for entry in contract(V2024).values())


def test_names_shared_by_both_contracts_are_two_operations() -> None:
    shared = set(contract(V2020)) & set(contract(V2024))
    assert {"GetProject", "ListProjects", "GetNode", "ListNodes"} <= shared
    assert contract(V2020)["GetProject"]["params"] != contract(V2024)["GetProject"]["params"]


# -- dispatch on (Action, Version) ------------------------------------------------------------


def test_a_2020_action_resolves_to_its_2020_operation() -> None:
    operation = resolve("GetProject", V2020)
    assert operation is operations()["GetProject"] is table(V2020)["GetProject"]
    assert operation.version == V2020 and operation.is_read
    assert operation.rule == Rule(Permission.READ)
    assert {p.name for p in operation.params} == {"ProjectId", "ProjectIdentifier"}


UNSERVED_2024 = [a for a in CONTRACT_2024 if a not in handlers(V2024)]
SERVED_GROUPS_2024 = {
    "project",
    "member",
    "node",
    "workflow_definition",
    "pipeline",
    "legacy_datastudio",
    "resource",
    "function",
    "snapshot",
    "scheduler_task",
    "cross_project_pipeline",
}


@pytest.mark.parametrize("action", [*UNSERVED_2024, "NoSuchOperation"])
def test_every_2024_call_without_a_handler_is_api_not_found(action: str) -> None:
    # names 2020 serves (CreateUdfFile...) included: the pair decides
    assert _same(_refusal(action, V2024), api_not_found(action))
    assert _refusal(action, V2024).status == 404


def test_the_2024_table_holds_the_groups_served() -> None:
    groups = {name: entry["group"] for name, entry in contract(V2024).items()}
    lines = set(OVERLAYS[V2024].operations)
    assert lines == {name for name, group in groups.items() if group in SERVED_GROUPS_2024}
    assert set(table(V2024)) == lines


def test_unknown_action_in_2020_is_api_not_found() -> None:
    assert _same(_refusal("NoSuchOperation", V2020), api_not_found("NoSuchOperation"))


def test_a_2020_operation_without_a_handler_is_api_not_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every 2020 operation is served; take one handler away to see the refusal
    name = "EstablishRelationTableToBusiness"
    assert name in operations() and name in handlers(V2020)
    monkeypatch.delitem(handlers(V2020), name)
    assert _same(_refusal(name, V2020), api_not_found(name))


@pytest.mark.parametrize("version", ["2019-01-01", "", "2020-05-18 ", "2024-05-19"])
def test_unknown_version_is_invalid_version(version: str) -> None:
    error = _refusal("ListProjects", version)
    assert _same(error, invalid_version(version)) and error.status == 400


# (GetCrossProjectPipelineRun stood here while no version served it; every contract
# operation of 2024-05-18 is served now)
@pytest.mark.parametrize("action", ["NoSuchOperation", "GetCrossProjectPipelineRunz"])
def test_unknown_version_with_an_action_no_version_serves_is_api_not_found(action: str) -> None:
    # as before versions were tables: the action is looked at first
    assert _same(_refusal(action, "2019-01-01"), api_not_found(action))


@pytest.fixture
def served_2024(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """GetProject served in 2024-05-18 by a test overlay line and a test handler."""
    calls: list[str] = []

    def get_project_2024(call: Call, params: Any) -> dict[str, Any]:
        calls.append("2024")
        return {"Project": {"Id": params["Id"], "Name": "p"}}

    overlay = Overlay(
        V2024,
        {"GetProject": Op(Access.READ, Rule(Permission.ACCOUNT_READ))},
        ParamRules(long=frozenset({"Id"})),
    )
    monkeypatch.setitem(spec_module.OVERLAYS, V2024, overlay)
    monkeypatch.setitem(handlers(V2024), "GetProject", get_project_2024)
    table.cache_clear()
    yield calls
    table.cache_clear()


def test_same_action_in_two_versions_resolves_to_two_operations(served_2024: list[str]) -> None:
    old, new = resolve("GetProject", V2020), resolve("GetProject", V2024)
    assert old is not new
    assert (old.version, new.version) == (V2020, V2024)
    assert [p.name for p in new.params] == ["Id"] and new.params[0].required
    assert new.response == contract(V2024)["GetProject"]["response"] != old.response
    assert new.rule == Rule(Permission.ACCOUNT_READ) != old.rule
    # ListProjects has no 2024 line yet: still not found there
    assert _same(_refusal("ListProjects", V2024), api_not_found("ListProjects"))


def test_dispatch_runs_the_handler_of_the_operation_s_version(served_2024: list[str]) -> None:
    call = Call(None, Principal("1", "2", "someone"))  # type: ignore[arg-type]  # no store used
    document = dispatch(resolve("GetProject", V2024), call, {"Id": 7})
    assert served_2024 == ["2024"]
    assert document["Project"]["Id"] == 7 and "Data" not in document


def test_handlers_register_per_version() -> None:
    assert handlers(V2020) is openworks.api.HANDLERS
    with pytest.raises(RuntimeError, match="two handlers for GetProject"):
        handles("GetProject")(lambda call, params: {})
    with pytest.raises(ValueError, match="unknown API version"):
        handles("GetProject", version="2019-01-01")


# -- the overlay: the only place of an operation's facts besides the contract --------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_handler_has_an_operation_in_its_version_s_table(version: str) -> None:
    assert set(handlers(version)) <= set(table(version))


def test_every_2020_operation_has_an_overlay_line() -> None:
    assert set(OPERATIONS) == set(contract(V2020)) == set(operations())
    assert set(handlers(V2020)) <= set(OPERATIONS)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_an_operation_s_facts_come_from_its_overlay_line(name: str) -> None:
    line, operation = OPERATIONS[name], operations()[name]
    assert operation.rule is line.rule
    assert operation.is_read == (line.access is Access.READ)
    required = {p.name for p in operation.params if p.required}
    contract_required = {p["name"] for p in contract(V2020)[name]["params"] if p.get("required")}
    assert required == contract_required | line.required


def test_required_overrides() -> None:
    (project_id,) = [p for p in operations()["ListCheckProcesses"].params if p.name == "ProjectId"]
    assert project_id.required
    assert OPERATIONS["ListCheckProcesses"].required == {"ProjectId"}


def test_read_write_is_stated_not_guessed_from_the_name() -> None:
    assert not operations()["CheckFileDeployment"].is_read  # reports a result
    assert OPERATIONS["CheckFileDeployment"].access is Access.WRITE


def _literal_operation_names(path: Path, names: set[str]) -> list[tuple[int, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Dict):
            elements: list[ast.expr | None] = list(node.keys)
        elif isinstance(node, ast.Set | ast.Tuple | ast.List):
            elements = list(node.elts)
        else:
            continue
        hits = [
            e.value
            for e in elements
            if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value in names
        ]
        if len(hits) >= 2:
            found.append((node.lineno, hits))
    return found


def test_no_table_of_operations_outside_the_overlays() -> None:
    """Facts per operation (rules, access, limits) live in api/versions/ only: no other
    module holds a literal collection naming two operations or more."""
    names = set(contract(V2020)) | set(contract(V2024))
    overlays = SRC / "api" / "versions"
    tables = {
        str(path.relative_to(SRC)): found
        for path in sorted(SRC.rglob("*.py"))
        if overlays not in path.parents and (found := _literal_operation_names(path, names))
    }
    assert tables == {}


def test_core_holds_no_operation_names() -> None:
    names = set(contract(V2020))
    for path in sorted((SRC / "core").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not _literal_operation_names(path, names), path
        assert "MATRIX" not in text, path


# -- building a table ---------------------------------------------------------------------------


def test_an_overlay_line_for_an_operation_outside_the_contract_is_refused() -> None:
    overlay = Overlay(V2024, {"MadeUp": Op(Access.READ, Rule(Permission.READ))}, ParamRules())
    with pytest.raises(ValueError, match="MadeUp"):
        build(overlay, contract(V2024))


def test_an_integer_without_a_width_is_refused() -> None:
    overlay = Overlay(V2024, {"GetProject": Op(Access.READ, Rule(Permission.READ))}, ParamRules())
    with pytest.raises(ValueError, match="Id is neither Long nor Integer"):
        build(overlay, contract(V2024))


def test_a_required_override_must_name_a_declared_parameter() -> None:
    line = Op(Access.READ, Rule(Permission.READ), required=frozenset({"Nope"}))
    overlay = Overlay(V2024, {"GetProject": line}, ParamRules(long=frozenset({"Id"})))
    with pytest.raises(ValueError, match="Nope"):
        build(overlay, contract(V2024))
