"""Log formats: ``text`` (one readable line, the default) or ``json`` (one object a line).

``serve --log-format json`` (``OPENWORKS_LOG_FORMAT=json``) writes every record on stderr as::

    {"time": "2025-01-02T03:04:05.678Z", "level": "INFO", "logger": "openworks.access",
     "message": "GetDeployment 200 0.4ms 5B3F… account=1000000000000001",
     "request_id": "5B3F…", "action": "GetDeployment", "account": "1000000000000001",
     "status": 200, "code": "OK", "ms": 0.4}

(one line; shown wrapped). The fields after ``message`` are the access log's (logger
``openworks.access``, one record per API call); other records have the first four, and
``exc_info`` with the traceback when there is one. uvicorn's own records go through the
same formatter (:func:`uvicorn_log_config`). Nothing secret is ever a field: the access log
names the account, never a key or a signature.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

import orjson

__all__ = [
    "ACCESS_FIELDS",
    "FORMATS",
    "TEXT_FORMAT",
    "JsonFormatter",
    "TextFormatter",
    "uvicorn_log_config",
]

FORMATS = ("text", "json")
ACCESS_FIELDS = ("request_id", "action", "account", "status", "code", "ms")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class TextFormatter(logging.Formatter):
    """The ``text`` format; the date and time up to the second are formatted once a second
    (``time.strftime`` per record was a measurable share of an access-log line)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._stamp: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second, stamp = self._stamp
        if int(record.created) != second:
            second = int(record.created)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(record.created))
            self._stamp = (second, stamp)
        return f"{stamp},{int(record.msecs):03d}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ms), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        created = record.created
        document: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
            + f".{int(created * 1000) % 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = record.__dict__
        for name in ACCESS_FIELDS:
            value = fields.get(name)
            if value is not None:
                document[name] = value
        if record.exc_info:
            document["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            document["stack_info"] = self.formatStack(record.stack_info)
        return orjson.dumps(document, default=str).decode()


def uvicorn_log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: its own default for ``text``; for ``json`` the same
    loggers with :class:`JsonFormatter` (also in each ``--workers`` process)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    if log_format == "json":
        for formatter in config["formatters"].values():
            formatter.clear()
            formatter["()"] = "openworks.logformat.JsonFormatter"
    return config
