from pathlib import Path

import openworks.api  # noqa: F401  (registers handlers)
from openworks.api.coverage import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "api-coverage.md"


def test_api_coverage_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/api-coverage.md is stale: run python -m openworks.api.coverage > docs/api-coverage.md"
    )
