"""The audit trail: write one entry per state-changing call, read them back.

::

    app (after dispatch) ──append(AuditEntry)──▶ audit_log ◀──query(since, workspace)── CLI
    openworks commands   ──append(AuditEntry(source="cli", operator="alice@host"))──┘

``source`` says where the change came from (``api``, ``cli``); ``operator`` is, for a
command, the operating system user and host that ran it (see :mod:`openworks.cli.audited`).

Parameters are stored redacted: names that look secret are replaced by ``"***"``, long
values are cut to :data:`MAX_VALUE` characters, lists and objects to :data:`MAX_ITEMS`
entries, nesting to :data:`MAX_DEPTH` levels and the whole JSON to :data:`MAX_PARAMS`
characters, each cut leaving a marker (``…[5000 characters]``, ``…[100000 items]``).

Every column is bounded to its width before the insert, so what a caller sends can never
make the row fail: a value too long for its column (``ProjectIdentifier`` is 64) is stored
cut with the same marker, a NUL (which PostgreSQL text cannot hold) as ``\\x00``, a lone
surrogate as U+FFFD, a ``ProjectId`` outside 64 bits in the parameters only.

When the insert fails anyway (the database is down, a constraint this module does not know
of), :func:`append` logs it at ERROR (request id, action, account and the database's one-line
reason: no parameters, no secrets), counts it (:func:`audit_failures`) and writes a reduced
row instead (who, what, when, outcome; parameters replaced by a note). Only if that fails too
is the row lost, counted again (:func:`audit_rows_lost`). The call's answer stands either way:
see docs/security.md, "Audit trail bounds".

API calls hand their rows to a per-process writer that commits the rows due at the same time
in one transaction (:mod:`openworks.store.audit_writer`); it writes them with
:func:`append_rows`, which keeps these rules per row: a batch whose insert fails is written
again row by row, so one bad row costs no other row anything.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, String, insert, or_, select

from .hot import HotWrite
from .schema import projects
from .schema_security import audit_log

__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_PARAMS",
    "MAX_VALUE",
    "AuditEntry",
    "append",
    "append_rows",
    "audit_failures",
    "audit_rows_lost",
    "bounded",
    "prepared",
    "query",
    "record",
    "redact",
    "row_values",
]

MAX_VALUE = 256  # characters of one parameter value
MAX_ITEMS = 50  # entries of one list or object
MAX_DEPTH = 4  # levels of nested lists and objects
MAX_PARAMS = 65_536  # characters of the stored parameter JSON
_SECRET_NAME = re.compile(r"secret|password|securitytoken|signature|credential", re.IGNORECASE)
_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
log = logging.getLogger("openworks.audit")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    time: int
    account_id: str
    user_id: str
    access_key_id: str
    action: str
    status: int
    code: str
    request_id: str
    project_id: int | None = None
    project_identifier: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    source: str = "api"  # "api" or "cli"
    operator: str | None = None  # cli: the OS user@host that ran the command
    version: str | None = None  # api: the call's API version (2020-05-18, 2024-05-18)
    id: int = 0


# -- failure counters (a later /metrics exposes them) ---------------------------------------
_counts = {"failures": 0, "lost": 0}
_counts_lock = threading.Lock()


def _count(name: str) -> None:
    with _counts_lock:
        _counts[name] += 1


def audit_failures() -> int:
    """Audit inserts that failed in this process (each then wrote a reduced row or lost it)."""
    return _counts["failures"]


def audit_rows_lost() -> int:
    """Audit rows this process could not write at all (the reduced row failed too)."""
    return _counts["lost"]


# -- bounding ----------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Text every backend stores: NUL spelled out, lone surrogates replaced. (Surrogates are
    the only code points strict UTF-8 cannot encode, so that C-speed test stands in for a
    regular-expression scan: 4 MiB of text in ~1 ms instead of 20.)"""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if not text.isascii() and not _encodes(text):
        text = _LONE_SURROGATE.sub("\ufffd", text)
    return text


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bounded(text: str, width: int) -> str:
    """``text`` cleaned and, if longer than ``width`` characters, cut so that it ends with
    the marker ``…[N characters]`` (N = the length sent) and fits ``width`` exactly."""
    text = _clean(text)
    if len(text) <= width:
        return text
    marker = f"…[{len(text)} characters]"
    if len(marker) >= width:
        return marker[:width]
    return text[: width - len(marker)] + marker


def _clip(value: Any, limit: int, items: int, depth: int) -> Any:
    if isinstance(value, str):
        value = _clean(value)
        return f"{value[:limit]}…[{len(value)} characters]" if len(value) > limit else value
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else str(value)[:limit]
    if isinstance(value, list | tuple):
        if depth <= 0:
            return f"…[list of {len(value)} items]"
        out = [_clip(v, limit, items, depth - 1) for v in value[:items]]
        if len(value) > items:
            out.append(f"…[{len(value)} items]")
        return out
    if isinstance(value, Mapping):
        if depth <= 0:
            return f"…[object of {len(value)} entries]"
        return _clip_mapping(value, limit, items, depth - 1)
    return _clip(str(value), limit, items, depth)


def _clip_mapping(value: Mapping[Any, Any], limit: int, items: int, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, (k, v) in enumerate(value.items()):
        if n == items:
            out["…"] = f"[{len(value)} entries]"
            break
        name = bounded(str(k), limit)
        out[name] = "***" if _SECRET_NAME.search(name) else _clip(v, limit, items, depth)
    return out


def redact(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as they may be stored: no secrets, no huge values."""
    return _clip_mapping(params, MAX_VALUE, MAX_ITEMS, MAX_DEPTH)


def _params_text(params: Mapping[str, Any]) -> str:
    """The redacted parameters as JSON of at most :data:`MAX_PARAMS` characters: cut
    tighter if the first cut is still too long, a note if even that is."""
    for limit, items, depth in ((MAX_VALUE, MAX_ITEMS, MAX_DEPTH), (64, 10, 1)):
        text = orjson.dumps(_clip_mapping(params, limit, items, depth)).decode()
        if len(text) <= MAX_PARAMS:
            return text
    return orjson.dumps({"…": f"[{len(params)} parameters, too large to store]"}).decode()


def _width(column: str) -> int:
    kind = audit_log.c[column].type
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


_WIDTHS = {
    name: _width(name)
    for name in ("account_id", "user_id", "access_key_id", "action", "code", "request_id", "source")
}
_IDENTIFIER_WIDTH = _width("project_identifier")
_OPERATOR_WIDTH = _width("operator")
_VERSION_WIDTH = _width("version")


def _in(value: int, bounds: tuple[int, int]) -> bool:
    return bounds[0] <= value <= bounds[1]


def row_values(entry: AuditEntry) -> dict[str, Any]:
    """The entry as an ``audit_log`` row every backend accepts: each column within its
    width and type (see the module docstring)."""
    values: dict[str, Any] = {
        name: bounded(str(getattr(entry, name)), width) for name, width in _WIDTHS.items()
    }
    project_id = entry.project_id
    identifier = entry.project_identifier
    operator = entry.operator
    values.update(
        time=entry.time,
        status=entry.status if _in(entry.status, _INT32) else 0,
        project_id=project_id if project_id is not None and _in(project_id, _INT64) else None,
        project_identifier=None
        if identifier is None
        else bounded(str(identifier), _IDENTIFIER_WIDTH),
        params=_params_text(entry.params),
        operator=None if operator is None else bounded(str(operator), _OPERATOR_WIDTH),
        version=None if entry.version is None else bounded(str(entry.version), _VERSION_WIDTH),
    )
    return values


_INSERT = HotWrite(insert(audit_log))  # compiled once, run on the driver (store/hot.py)


def _write(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (:func:`row_values`) in the caller's write transaction."""
    if len(rows) == 1:
        _INSERT.run(conn, rows[0])
    elif rows:
        _INSERT.many(conn, rows)


def _insert(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (:func:`row_values`) in one write transaction."""
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            _write(conn, rows)


def record(engine: Engine, entry: AuditEntry) -> None:
    """Insert one entry, bounded to the columns; raises what the database raises."""
    _insert(engine, [row_values(entry)])


def _reason(err: BaseException) -> str:
    """One line about a failed insert, without the statement's parameters."""
    cause = getattr(err, "orig", None) or err
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return bounded(f"{type(cause).__name__}: {first}" if first else type(cause).__name__, 300)


def _note(reason: str) -> dict[str, str]:
    """The parameters of a reduced row."""
    return {"…": f"[parameters not stored: {reason}]"}


def _failed(request_id: str, action: str, account_id: str, err: BaseException) -> str:
    """Log and count a failed insert; the reason, for the reduced row."""
    reason = _reason(err)
    _count("failures")
    log.error(
        "audit insert failed for request %s (%s, account %s): %s; writing a reduced row",
        bounded(request_id, 64),
        bounded(action, 64),
        bounded(account_id, 32),
        reason,
    )
    return reason


def _lost(request_id: str, action: str, account_id: str, err: BaseException) -> None:
    """Log and count a row that could not be written at all."""
    _count("lost")
    log.error(
        "audit row LOST for request %s (%s, account %s): %s",
        bounded(request_id, 64),
        bounded(action, 64),
        bounded(account_id, 32),
        _reason(err),
    )


def append(engine: Engine, entry: AuditEntry) -> bool:
    """Record one entry without raising; ``False`` when the full row could not be written
    (logged at ERROR, counted, and replaced by a reduced row if that can be written)."""
    try:
        record(engine, entry)
        return True
    except Exception as err:
        reason = _failed(entry.request_id, entry.action, entry.account_id, err)
    try:
        record(engine, replace(entry, params=_note(reason)))
    except Exception as err:
        _lost(entry.request_id, entry.action, entry.account_id, err)
    return False


def _reduced(engine: Engine, row: Mapping[str, Any], err: BaseException) -> bool:
    """After ``row`` failed with ``err``: logged, counted, its reduced row written or (when
    that fails too) counted as lost. Always ``False``."""
    request_id, action, account_id = row["request_id"], row["action"], row["account_id"]
    reason = _failed(request_id, action, account_id, err)
    try:
        _insert(engine, [{**row, "params": _params_text(_note(reason))}])
    except Exception as again:
        _lost(request_id, action, account_id, again)
    return False


def _append_row(engine: Engine, row: Mapping[str, Any]) -> bool:
    """:func:`append` for a row already made by :func:`row_values` (its request id, action
    and account are bounded as the log lines bound them)."""
    try:
        _insert(engine, [row])
        return True
    except Exception as err:
        return _reduced(engine, row, err)


def prepared(entry: AuditEntry) -> tuple[dict[str, Any] | None, bool]:
    """The entry's row for :func:`append_rows`, without raising, and whether it is whole:
    when :func:`row_values` fails (a parameter that cannot be turned into text), that is
    logged and counted as a failed insert and the reduced row comes instead; ``None`` when
    even that cannot be made (counted as lost)."""
    try:
        return row_values(entry), True
    except Exception as err:
        reason = _failed(entry.request_id, entry.action, entry.account_id, err)
    try:
        return row_values(replace(entry, params=_note(reason))), False
    except Exception as err:
        _lost(entry.request_id, entry.action, entry.account_id, err)
    return None, False


def append_rows(engine: Engine, take: Callable[[], Sequence[Mapping[str, Any]]]) -> list[bool]:
    """Record rows of :func:`row_values` in one write transaction, without raising; per
    row, as :func:`append` says, ``False`` when its full row could not be written.

    ``take`` gives the rows once the transaction has begun: on SQLite once it holds the
    write lock, so the rows that arrived while it waited for its turn go in too. When the
    batch fails, each row is tried again alone (and only then counted as a failure), so a
    row the database refuses costs the others nothing; a batch of one row is not tried
    again."""
    rows: Sequence[Mapping[str, Any]] | None = None
    try:
        with engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                rows = take()
                _write(conn, rows)
        return [True] * len(rows)
    except Exception as err:
        if rows is None:  # no transaction at all (the database is down)
            rows = take()
        if len(rows) == 1:
            return [_reduced(engine, rows[0], err)]
        if rows:
            log.warning(
                "audit batch of %d rows failed (%s); writing them one by one",
                len(rows),
                _reason(err),
            )
    return [_append_row(engine, row) for row in rows]


def query(
    engine: Engine,
    account_id: str | None = None,
    since_ms: int | None = None,
    workspace: str | None = None,
    limit: int = 1000,
    source: str | None = None,
) -> list[AuditEntry]:
    """Entries oldest first; ``workspace`` is a workspace ID or identifier, ``source``
    ``api`` or ``cli`` (default: both)."""
    stmt = select(audit_log)
    if source is not None:
        stmt = stmt.where(audit_log.c.source == source)
    if account_id is not None:
        stmt = stmt.where(audit_log.c.account_id == account_id)
    if since_ms is not None:
        stmt = stmt.where(audit_log.c.time >= since_ms)
    with engine.connect() as conn:
        if workspace is not None:
            ids: list[int] = []
            if workspace.isdigit():
                ids.append(int(workspace))
            found = conn.execute(
                select(projects.c.id).where(projects.c.identifier == workspace)
            ).scalar()
            if found is not None:
                ids.append(int(found))
            stmt = stmt.where(
                or_(audit_log.c.project_id.in_(ids), audit_log.c.project_identifier == workspace)
            )
        # newest `limit` entries, returned oldest first
        rows = conn.execute(stmt.order_by(audit_log.c.id.desc()).limit(limit)).all()
    entries = []
    for r in reversed(rows):
        m = r._mapping
        entries.append(
            AuditEntry(
                id=m["id"],
                time=m["time"],
                account_id=m["account_id"],
                user_id=m["user_id"],
                access_key_id=m["access_key_id"],
                action=m["action"],
                status=m["status"],
                code=m["code"],
                request_id=m["request_id"],
                project_id=m["project_id"],
                project_identifier=m["project_identifier"],
                params=orjson.loads(m["params"]),
                source=m["source"],
                operator=m["operator"],
                version=m["version"],
            )
        )
    return entries
