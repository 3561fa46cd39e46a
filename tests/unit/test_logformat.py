"""The text log format (openworks.logformat.TextFormatter)."""

from __future__ import annotations

import logging

from openworks.logformat import TEXT_FORMAT, TextFormatter


def test_text_formatter_matches_logging_default() -> None:
    reference = logging.Formatter(TEXT_FORMAT)
    ours = TextFormatter()
    for created in (1700000000.25, 1700000000.999, 1700000001.0, 1700000001.5, 1699999999.0):
        rec = logging.LogRecord(
            "openworks.access", logging.INFO, __file__, 1, "Get 200", None, None
        )
        rec.created, rec.msecs = created, (created - int(created)) * 1000
        assert ours.format(rec) == reference.format(rec)
