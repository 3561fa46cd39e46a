"""Throttling configuration: preset names and TOML files."""

from __future__ import annotations

from pathlib import Path

import pytest

from openworks.protocol.throttle import PRESETS, Limits
from openworks.protocol.throttle_config import ThrottleConfigError, load_policy

KNOWN = {"DeployFile", "GetFile", "ListFiles"}


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "limits.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name", ["off", "basic", "standard", "professional", "enterprise"])
def test_presets_by_name(name: str) -> None:
    assert load_policy(name).default == PRESETS[name]
    assert load_policy(f" {name.upper()} ").default == PRESETS[name]


def test_preset_values() -> None:
    assert PRESETS["basic"] == Limits(qps=5, daily=100)
    assert PRESETS["enterprise"] == Limits(read_qps=50, write_qps=20)
    assert not PRESETS["off"].active


def test_toml_with_overrides_operations_and_accounts(tmp_path: Path) -> None:
    policy = load_policy(
        write(
            tmp_path,
            """
            preset = "enterprise"
            daily = 1000
            burst_seconds = 0.5
            day_utc_offset_hours = 0

            [operations]
            DeployFile = 1

            [accounts."2000"]
            preset = "off"

            [accounts."3000"]
            write_qps = 2
            [accounts."3000".operations]
            GetFile = 0.5
            """,
        ),
        KNOWN,
    )
    assert policy.default == Limits(
        read_qps=50, write_qps=20, daily=1000, operations={"DeployFile": 1}, burst_seconds=0.5
    )
    assert policy.day_offset_hours == 0
    assert policy.limits_for("2000") == PRESETS["off"]
    third = policy.limits_for("3000")
    assert (third.read_qps, third.write_qps, third.daily) == (50, 2, 1000)
    assert third.operations == {"DeployFile": 1, "GetFile": 0.5}
    assert policy.limits_for("anyone else") == policy.default


def test_zero_means_no_limit(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, 'preset = "basic"\ndaily = 0\n'))
    assert policy.default == Limits(qps=5)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("qsp = 5", "unknown key(s) qsp"),
        ('preset = "gold"', "unknown preset"),
        ("qps = -1", "must not be negative"),
        ('qps = "fast"', "must be a number"),
        ("daily = 1.5", "whole number"),
        ("burst_seconds = 0", "must be positive"),
        ("[operations]\nDeployFiles = 1", "unknown operation 'DeployFiles'"),
        ('[accounts."1"]\nday_utc_offset_hours = 3', "unknown key(s) day_utc_offset_hours"),
        ("qps = ", "cannot read throttling file"),
        ("accounts = 3", "accounts must be a table"),
    ],
)
def test_mistakes_are_reported(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ThrottleConfigError) as info:
        load_policy(write(tmp_path, text), KNOWN)
    assert fragment in str(info.value)


def test_neither_preset_nor_file(tmp_path: Path) -> None:
    with pytest.raises(ThrottleConfigError, match="neither a preset"):
        load_policy(str(tmp_path / "missing.toml"))
