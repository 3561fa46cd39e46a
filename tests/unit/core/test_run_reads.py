"""Run ids as the CLI and the console read them, and how a stage is drawn."""

from __future__ import annotations

import uuid

import pytest

from openworks.core.run_reads import parse_run_id
from openworks.presenters.labels import RUN_STATUS, STAGE_LOOKS, stage_look


def test_a_run_id_is_a_uuid_in_either_case() -> None:
    made = str(uuid.uuid4())
    assert parse_run_id(made) == made
    assert parse_run_id(f" {made.upper()} ") == made


@pytest.mark.parametrize(
    "text",
    ["", "123", "x" * 36, "{" + "0" * 32 + "}", "0" * 32, "\u0661" * 36, "0" * 8 + "-" * 28],
)
def test_anything_else_is_not_a_run_id(text: str) -> None:
    assert parse_run_id(text) is None


def test_every_status_has_words_and_a_look() -> None:
    for status in RUN_STATUS:
        state, mark, words = stage_look(status)
        assert state in STAGE_LOOKS and mark and words
    assert stage_look("Running", held=True)[0] == "waiting"
    assert stage_look("Init", held=True)[0] == "pending"
    assert len({mark for mark, _words in STAGE_LOOKS.values()}) >= 6
