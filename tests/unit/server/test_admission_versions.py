"""Per-operation throttling limits name actions of either API version."""

from __future__ import annotations

from pathlib import Path

import pytest

from openworks.config import ConfigError, Settings
from openworks.server.admission import build_limiter


def _settings(tmp_path: Path, operations: str) -> Settings:
    policy = tmp_path / "throttle.toml"
    policy.write_text(f'preset = "enterprise"\n[operations]\n{operations}\n', encoding="utf-8")
    return Settings(throttle=str(policy))


def test_a_2024_operation_name_is_a_known_operation(tmp_path: Path) -> None:
    limiter = build_limiter(_settings(tmp_path, "CreatePipelineRun = 1\nDeployFile = 2"))
    assert limiter is not None


def test_a_name_no_version_serves_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown operation 'CreatePipelineRuns'"):
        build_limiter(_settings(tmp_path, "CreatePipelineRuns = 1"))
