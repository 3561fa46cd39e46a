"""Exact list totals without walking the rows, and keyword searches through text indexes.

::

    TotalCount ─┬─ only workspace + counted keys ─▶ counted(): sum(n) of the counter rows
                │   (Status/Creator, Owner/CommitStatus/  kept by triggers (schema_counts.py);
                │    FileTypes)                           a list of values: their rows' sum
                └─ any other filter ─────────────────▶ SELECT count(*) ... (the filters' indexes)

    Keyword ─┬─ PostgreSQL: name LIKE '%kw%' as before; the planner picks the pg_trgm GIN
             │   index (migration 0016) when the keyword is selective
             └─ SQLite, keyword of ≥ 3 characters: probe the FTS5 trigram table;
                 < cap candidates ─▶ id IN (those ids, read once) [AND name LIKE '%kw%']:
                                     page ids + window count, then the page (page_of_few)
                 more ─────────────▶ name LIKE '%kw%' alone (a scan of the filters' index)

The FTS5 match is a phrase of the keyword's trigrams, folded to lower case: it finds every
row whose text holds the keyword (ASCII case aside, as SQLite's LIKE), and a few more
(other letters folded too). When those few cannot exist (fts_exact: a printable ASCII
keyword without a letter that some other character folds into) the match alone is the answer;
else the LIKE kept beside it decides. Either way the rows are exactly those of the LIKE
alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    Table,
    bindparam,
    func,
    literal_column,
    select,
)

from openworks.core.ports import Page

from .hot import driver_rows

__all__ = ["MIN_TRIGRAM", "counted", "fts_candidates", "fts_exact", "page_of_few", "phrase"]

MIN_TRIGRAM = 3  # a keyword shorter than a trigram cannot use a trigram index
# The probe stops at this many FTS candidates; past it the keyword is not selective and
# the filters' own index serves better (each candidate costs a row lookup, while the index
# scan reads its entries in order).
_CAP_SHARE = 8  # cap = rows the scan would read / _CAP_SHARE ...
_CAP_MIN, _CAP_MAX = 64, 20_000  # ... within these bounds
# The ASCII letters a non-ASCII character folds into in the trigram tokenizer's case
# folding (SQLite's Unicode fold, one code point to one): U+212A KELVIN SIGN -> k and
# U+017F LATIN SMALL LETTER LONG S -> s; every other non-ASCII character stays non-ASCII
# (a test scans every code point). LIKE does not fold those two, so a keyword holding
# k or s may get extra FTS candidates.
_FOLDED_INTO = frozenset("kKsS")


def counted(conn: Connection, counts: Table, project_id: int, keys: Mapping[str, object]) -> int:
    """The exact number of counted rows of a workspace whose key columns equal ``keys``
    (a value of None: any; a sequence: any of its values), from the trigger-kept counter
    table ``counts``."""
    cond = [counts.c.project_id == project_id]
    for k, v in keys.items():
        if isinstance(v, Sequence) and not isinstance(v, str):
            cond.append(counts.c[k].in_(list(v)))
        elif v is not None:
            cond.append(counts.c[k] == v)
    stmt = select(func.coalesce(func.sum(counts.c.n), 0)).where(*cond)
    return int(conn.execute(stmt).scalar_one())


def phrase(keyword: str) -> str:
    """An FTS5 query matching ``keyword`` as one phrase (every character literal)."""
    return '"' + keyword.replace('"', '""') + '"'


def fts_exact(keyword: str) -> bool:
    """Whether the FTS5 candidates of ``keyword`` are exactly the rows of SQLite's
    ``LIKE '%keyword%'`` (with ``%``, ``_`` and ``\\`` escaped), so that no LIKE need
    re-check them: a keyword of printable ASCII characters only (LIKE folds the ASCII
    letters, as the tokenizer does; a phrase quotes every character, ``"`` doubled; a
    control character such as NUL, which ends LIKE's pattern, keeps the re-check), none of
    them a letter a non-ASCII character folds into."""
    return keyword.isascii() and keyword.isprintable() and _FOLDED_INTO.isdisjoint(keyword)


def fts_candidates(
    conn: Connection, table: Table, keyword: str, scanned: Callable[[], int]
) -> ColumnElement[bool] | None:
    """A condition on ``table.c.id``: among the ids the SQLite FTS5 table of ``table``
    proposes for ``keyword``; None when the index cannot help (PostgreSQL, a keyword
    shorter than a trigram, one holding NUL, which FTS5's query parser refuses, or more
    candidates than a scan of ``scanned()`` rows would cost). The match runs once, here: a
    phrase of common trigrams costs far more than its few candidates, which then travel as
    one JSON parameter (built by SQLite)."""
    if conn.dialect.name != "sqlite" or len(keyword) < MIN_TRIGRAM or "\0" in keyword:
        return None
    fts = f"{table.name}_fts"
    cap = max(_CAP_MIN, min(_CAP_MAX, scanned() // _CAP_SHARE))
    # on the driver, the candidates counted and made one JSON array by SQLite itself: no
    # Python object per candidate
    probe = (
        f"SELECT count(*), json_group_array(rowid) FROM "
        f"(SELECT rowid FROM {fts} WHERE {fts} MATCH ? LIMIT ?)"
    )
    ((found, ids),) = driver_rows(conn, probe, (phrase(keyword), cap))
    if found >= cap:
        return None
    value: ColumnElement[int] = literal_column("value", Integer)
    listed = select(value).select_from(func.json_each(bindparam("_fts_ids", ids)))
    return table.c.id.in_(listed)


def page_of_few(
    conn: Connection,
    table: Table,
    where: ColumnElement[bool],
    order: Sequence[ColumnElement[Any]],
    page: Page,
) -> tuple[list[Row[Any]], int]:
    """One page and the total of a filter known to match few rows (the FTS candidates):
    ids of the page with a window count beside them in one statement (each candidate is
    looked up once, and only its sort key is sorted), then the page's rows. A page past
    the end carries no count: then it is counted apart."""
    total_col = func.count().over().label("_total")
    stmt = select(table.c.id, total_col).where(where).order_by(*order)
    found = conn.execute(stmt.limit(page.size).offset(page.offset)).all()
    if not found:
        total = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
        return [], int(total)
    chosen = [r[0] for r in found]
    rows = conn.execute(select(table).where(table.c.id.in_(chosen)).order_by(*order))
    return list(rows), int(found[0][1])
