"""Folder path parsing: canonical names, aliases, levels and refusals."""

from __future__ import annotations

import pytest

from openworks.core.errors import Invalid
from openworks.core.folder_paths import ENGINE_FOLDERS, FolderPath, parse_path


@pytest.mark.parametrize(
    ("text", "canonical", "level"),
    [
        ("业务流程", "业务流程", 0),
        ("Business Flow/demo", "业务流程/demo", 1),
        ("/business  flow/demo/", "业务流程/demo", 1),
        ("Business Flow/demo/folderMaxCompute", "业务流程/demo/MaxCompute", 2),
        ("业务流程/demo/maxcompute/a/b", "业务流程/demo/MaxCompute/a/b", 4),
        (
            "Business Flow/System Data/MaxCompute/Import",
            "业务流程/System Data/MaxCompute/Import",
            3,
        ),
        ("Workflows/w/Data Integration/x", "业务流程/w/数据集成/x", 3),
        ("Manual Business Flow/w/General", "手动业务流程/w/通用", 2),
        ("业务流程/w/folderJdbc", "业务流程/w/数据库", 2),
        ("业务流程/w/folderADB", "业务流程/w/AnalyticDB for PostgreSQL", 2),
    ],
)
def test_canonical_form(text: str, canonical: str, level: int) -> None:
    path = parse_path(text)
    assert (path.text, path.level) == (canonical, level)
    assert parse_path(path.text) == path


def test_every_engine_alias_maps_to_its_canonical_name() -> None:
    for canonical, aliases in ENGINE_FOLDERS.items():
        for alias in (canonical, *aliases):
            assert parse_path(f"业务流程/w/{alias.upper()}").engine == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "/",
        "数据开发/业务流程/w/MaxCompute",
        "Some Root/w",
        "业务流程/w/NotAnEngine",
        "业务流程/w/MaxCompute/1/2/3/4/5",
        "业务流程/" + "x" * 129,
        "业务流程/w/MaxCompute/bad\tname",
    ],
)
def test_refused(text: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_path(text)
    assert err.value.code in ("Invalid.Folder.Path", "Invalid.Folder.Name")


def test_ancestors_parent_and_rename() -> None:
    path = parse_path("业务流程/w/MaxCompute/a/b")
    assert [p.text for p in path.ancestors()] == [
        "业务流程/w",
        "业务流程/w/MaxCompute",
        "业务流程/w/MaxCompute/a",
        "业务流程/w/MaxCompute/a/b",
    ]
    assert path.parent().text == "业务流程/w/MaxCompute/a"
    assert path.renamed("c").text == "业务流程/w/MaxCompute/a/c"
    assert FolderPath("业务流程", "w").renamed("v").text == "业务流程/v"
    assert FolderPath("业务流程", "w").parent().text == "业务流程"
    assert path.use_type == "NORMAL" and parse_path("手动业务流程/w").use_type == "MANUAL_BIZ"
