"""Every parameter of the operation table is bounded: integer widths, paging, lists, texts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Column, String

from openworks.api import files, operations
from openworks.api.registry import page_of
from openworks.api.spec import contract
from openworks.api.versions.v2020_05_18 import (
    INT_LISTS,
    INTEGER,
    LONG,
    MAX_LIST_ITEMS,
    MAX_TAGS,
    PAGE_NUMBER_MAX,
    PAGE_SIZE_MAX,
    TEXT_LIMITS,
)
from openworks.core.ports import Page
from openworks.protocol import ApiError, ParamSpec, coerce_params
from openworks.protocol.params import INT32_RANGE, INT64_RANGE
from openworks.store import schema, schema_folders

ALL_PARAMS = [(name, spec) for name, op in operations().items() for spec in op.params]
INT_PARAMS = [(name, spec) for name, spec in ALL_PARAMS if spec.type in ("int", "int_list")]


def _contract_ints() -> set[str]:
    raw = contract("2020-05-18")
    return {p["name"] for entry in raw.values() for p in entry["params"] if p["type"] == "int"}


def test_every_contract_integer_has_a_declared_width() -> None:
    ints = _contract_ints()
    assert ints == LONG | INTEGER  # none unbounded, none stale
    assert not LONG & INTEGER


@pytest.mark.parametrize(("operation", "spec"), INT_PARAMS, ids=lambda x: getattr(x, "name", x))
def test_every_integer_parameter_is_bounded_by_its_width(operation: str, spec: ParamSpec) -> None:
    expected = 64 if spec.name in LONG or INT_LISTS.get(spec.name) == 64 else 32
    assert spec.bits == expected, (operation, spec.name)
    low, high = spec.bounds
    assert INT64_RANGE[0] <= low <= high <= (INT32_RANGE if expected == 32 else INT64_RANGE)[1]
    for text in (str(high + 1), str(low - 1), "9" * 23, "\u00b2", "\uff11"):
        with pytest.raises(ApiError) as err:
            coerce_params([spec], {spec.name: text})
        assert err.value.code == "InvalidParameter" and f'"{spec.name}"' in err.value.message
    if spec.type == "int":
        assert coerce_params([spec], {spec.name: str(high)}) == {spec.name: high}


def test_paging_ranges_of_every_list_operation() -> None:
    paged = [op for op in operations().values() if any(p.name == "PageNumber" for p in op.params)]
    assert len(paged) >= 10
    for op in paged:
        specs = {p.name: p for p in op.params}
        assert specs["PageNumber"].bounds == (1, PAGE_NUMBER_MAX) == (1, 2**31 - 1), op.name
        assert specs["PageSize"].bounds == (1, PAGE_SIZE_MAX) == (1, 100), op.name


def test_the_largest_page_offset_fits_a_64_bit_sql_parameter() -> None:
    page = Page(PAGE_NUMBER_MAX, PAGE_SIZE_MAX)
    assert page.offset + page.size <= INT64_RANGE[1]
    assert page.offset == (2**31 - 2) * 100


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"PageNumber": 0}, "PageNumber"),
        ({"PageNumber": -1}, "PageNumber"),
        ({"PageNumber": 2**63 - 1}, "PageNumber"),
        ({"PageSize": 0}, "PageSize"),
        ({"PageSize": 101}, "PageSize"),
    ],
)
def test_page_of_refuses_pages_outside_the_range(params: dict[str, int], name: str) -> None:
    with pytest.raises(ApiError) as err:
        page_of(params)
    assert err.value.code == "InvalidParameter" and f'"{name}"' in err.value.message


def test_page_of_defaults_and_limits() -> None:
    assert page_of({}) == Page(1, 10)
    assert page_of({"PageNumber": PAGE_NUMBER_MAX, "PageSize": 100}) == Page(PAGE_NUMBER_MAX, 100)


def test_comma_separated_integer_lists() -> None:
    specs = {p.name: p for p in operations()["ListFiles"].params}
    types, ids = specs["FileTypes"], specs["FileIdIn"]
    assert (types.type, types.bits, types.max_items) == ("int_list", 32, MAX_LIST_ITEMS)
    assert (ids.type, ids.bits, ids.max_items) == ("int_list", 64, MAX_LIST_ITEMS)
    typed = coerce_params([types, ids], {"FileTypes": " 10, 23,", "FileIdIn": str(2**63 - 1)})
    assert typed == {"FileTypes": [10, 23], "FileIdIn": [2**63 - 1]}
    assert coerce_params([types], {"FileTypes": ""}) == {}
    # blank text is no filter, as before
    assert files._int_list(coerce_params([types], {"FileTypes": "  "}), "FileTypes") is None
    for text in (str(2**31), "9" * 23, "10,,23", "1," * 1001, "\u00b2", "10;23"):
        with pytest.raises(ApiError) as err:
            coerce_params([types], {"FileTypes": text})
        assert err.value.code == "InvalidParameter" and '"FileTypes"' in err.value.message


def test_json_lists_are_bounded() -> None:
    tags = next(p for p in operations()["CreateProject"].params if p.name == "Tags")
    assert tags.max_items == MAX_TAGS == 20
    twenty = json.dumps([{"Key": f"k{i}"} for i in range(20)])
    assert coerce_params([tags], {"Tags": twenty})["Tags"] == json.loads(twenty)
    with pytest.raises(ApiError) as err:
        coerce_params([tags], {"Tags": json.dumps([{"Key": "k"}] * 21)})
    assert "at most 20 elements" in err.value.message
    with pytest.raises(ApiError) as err:  # 10^5 elements: refused by length before parsing
        coerce_params([tags], {"Tags": "[" + ",".join(["{}"] * 100_000) + "]"})
    assert err.value.code == "InvalidParameter"
    for _, spec in ALL_PARAMS:
        if spec.type in ("list", "int_list"):
            assert spec.max_items <= MAX_LIST_ITEMS and spec.max_length <= 4096


def _width(column: Column[str]) -> int | None:
    return column.type.length if isinstance(column.type, String) else None


def test_text_limits_match_the_columns_they_are_stored_in() -> None:
    columns = {
        "Owner": [
            schema.files.c.owner,
            schema.file_versions.c.owner,
            schema.nodes.c.owner,
            schema_folders.businesses.c.owner,
        ],
        "ConnectionName": [schema.files.c.connection_name],
        "ClientToken": [schema.projects.c.client_token],
        "ResourceManagerResourceGroupId": [schema.projects.c.resource_group_id],
    }
    assert set(columns) == set(TEXT_LIMITS)
    for name, stored_in in columns.items():
        assert {_width(c) for c in stored_in} == {TEXT_LIMITS[name]}, name
    for _, spec in ALL_PARAMS:
        if spec.name in TEXT_LIMITS:
            assert spec.max_length == TEXT_LIMITS[spec.name]
