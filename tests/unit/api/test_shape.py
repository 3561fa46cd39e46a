"""Responses fitted to the contract's tree: every field present, nothing else."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from openworks.api.shape import compile_shape, shape

TREE: dict[str, Any] = {
    "RequestId": "str",
    "Data": {
        "Deployment": {"Name": "str", "Status": "int"},
        "DeployedItems": [{"FileId": "int", "Status": "int"}],
        "Tags": ["str"],
        "Any": [],
    },
}


def test_missing_fields_become_nulls_objects_and_empty_arrays() -> None:
    assert shape(TREE, None) == {
        "RequestId": None,
        "Data": {"Deployment": {"Name": None, "Status": None}, "DeployedItems": [], "Tags": [],
                 "Any": []},
    }  # fmt: skip


def test_values_kept_unknown_keys_dropped_wrong_kinds_replaced() -> None:
    value = {
        "RequestId": "r",
        "Secret": "never on the wire",
        "Data": {
            "Deployment": OrderedDict(Name="n", Status=1, Internal=2),
            "DeployedItems": [{"FileId": 7, "Extra": 1}, "not an object"],
            "Tags": ("not", "a list"),
            "Any": [1, "x"],
        },
    }
    assert shape(TREE, value) == {
        "RequestId": "r",
        "Data": {
            "Deployment": {"Name": "n", "Status": 1},
            "DeployedItems": [{"FileId": 7, "Status": None}, {"FileId": None, "Status": None}],
            "Tags": [],
            "Any": [1, "x"],
        },
    }
    assert shape(TREE, {"Data": "not an object"})["Data"]["Deployment"] == {
        "Name": None,
        "Status": None,
    }


def test_compiled_shaper_matches_and_is_reused() -> None:
    shaper = compile_shape(TREE)
    value = {"Data": {"DeployedItems": [{"FileId": 1}]}}
    assert shaper(value) == shape(TREE, value)
    first = shape(TREE, value)
    assert shape(TREE, value) == first and shape(TREE, value) is not first
