"""Line diffs whose cost is bounded, so that no pair of versions can stall the server.

``difflib.SequenceMatcher`` (without junk heuristics) is cubic on repetitive text: two
versions of 2,000 lines took two minutes. Here a diff is computed in three bounded steps::

    each side ≤ MAX_SIDE_BYTES (UTF-8) and ≤ MAX_SIDE_LINES lines?  no ──▶ no diff, say why
        │ yes
    strip the lines both sides start and end with          (linear)
        │
    Myers' O((N+M)·D) diff of the middle, giving up past MAX_EDITS changed lines,
    MAX_STEPS steps or MAX_SECONDS seconds                  ──▶ gave up: the middle is shown
        │                                                       as removed, then added
    hunks with 3 lines of context, at most MAX_ROWS rows    ──▶ more: the first MAX_ROWS,
                                                                and the page says so

Every limit that is reached is reported in :attr:`Diff.notes`, which the page shows. The
added and removed counts always cover the whole comparison, not only the rows shown.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "MAX_EDITS",
    "MAX_ROWS",
    "MAX_SECONDS",
    "MAX_SIDE_BYTES",
    "MAX_SIDE_LINES",
    "MAX_STEPS",
    "Diff",
    "DiffRow",
    "Opcode",
    "compare",
    "diff_rows",
    "grouped",
    "opcodes",
]

MAX_SIDE_BYTES = 1024 * 1024  # per side, UTF-8
MAX_SIDE_LINES = 20_000  # per side
MAX_EDITS = 1_000  # changed lines Myers may align (its trace holds about 4 * MAX_EDITS² bytes)
MAX_STEPS = 3_000_000  # diagonal and snake steps, about a second of CPython
MAX_SECONDS = 2.0  # wall clock, in case the thread gets little CPU
MAX_ROWS = 5_000  # table rows rendered

Opcode = tuple[str, int, int, int, int]  # difflib's: tag, i1, i2, j1, j2


@dataclass(frozen=True, slots=True)
class DiffRow:
    kind: str  # "hunk", "same", "del", "add"
    old: int | None
    new: int | None
    text: str


@dataclass(slots=True)
class Diff:
    """Rows to show, counts over the whole comparison, and the limits that were reached."""

    rows: list[DiffRow] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    compared: bool = True  # False: a side was too large, nothing was compared
    notes: list[str] = field(default_factory=list)


class _OutOfBudget(Exception):
    pass


class _Budget:
    """Counts steps against MAX_STEPS and checks the clock every so often."""

    def __init__(self, steps: int, seconds: float, clock: Callable[[], float]) -> None:
        self.left = steps
        self.clock = clock
        self.deadline = clock() + seconds

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0 or self.clock() > self.deadline:
            raise _OutOfBudget


def _myers(a: Sequence[int], b: Sequence[int], max_edits: int, budget: _Budget) -> list[Opcode]:
    """Opcodes of a shortest edit script from ``a`` to ``b`` (Myers 1986, greedy forward
    pass with one saved frontier per edit count); raises _OutOfBudget past ``max_edits``."""
    n, m = len(a), len(b)
    offset = max_edits + 1
    v = [0] * (2 * offset + 1)
    trace: list[array[int]] = []
    for d in range(min(n + m, max_edits) + 1):
        trace.append(array("i", v[offset - d + 1 : offset + d]))  # diagonals 1-d … d-1
        steps = 0
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
                x = v[offset + k + 1]
            else:
                x = v[offset + k - 1] + 1
            y = x - k
            start = x
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
            steps += 1 + x - start
            v[offset + k] = x
            if x >= n and y >= m:
                return _backtrack(trace, n, m)
        budget.spend(steps)
    raise _OutOfBudget


def _backtrack(trace: list[array[int]], x: int, y: int) -> list[Opcode]:
    """Walk the saved frontiers back from (n, m) to (0, 0), collecting opcodes."""
    moves: list[Opcode] = []
    for d in range(len(trace) - 1, -1, -1):
        k = x - y
        down = False
        if d == 0:
            prev_x = prev_y = 0
        else:
            frontier = trace[d]  # frontier[i] holds diagonal i + 1 - d
            down = k == -d or (k != d and frontier[k + d - 2] < frontier[k + d])
            prev_k = k + 1 if down else k - 1
            prev_x = frontier[prev_k + d - 1]
            prev_y = prev_x - prev_k
        snake_x, snake_y = (prev_x, prev_y + 1) if down else (prev_x + (d > 0), prev_y)
        if x > snake_x:
            moves.append(("equal", snake_x, x, snake_y, y))
        if d:
            if down:
                moves.append(("insert", prev_x, prev_x, prev_y, prev_y + 1))
            else:
                moves.append(("delete", prev_x, prev_x + 1, prev_y, prev_y))
        x, y = prev_x, prev_y
    return _merge(reversed(moves))


def _merge(moves: Iterable[Opcode]) -> list[Opcode]:
    """Adjacent moves folded into difflib-style opcodes (delete + insert = replace)."""
    out: list[Opcode] = []
    for tag, i1, i2, j1, j2 in moves:
        if i1 == i2 and j1 == j2:
            continue
        if out:
            last = out[-1]
            if (last[0] == "equal") == (tag == "equal") and last[2] == i1 and last[4] == j1:
                out[-1] = (tag, last[1], i2, last[3], j2)
                continue
        out.append((tag, i1, i2, j1, j2))
    return [(_tag(tag, i1, i2, j1, j2), i1, i2, j1, j2) for tag, i1, i2, j1, j2 in out]


def _tag(tag: str, i1: int, i2: int, j1: int, j2: int) -> str:
    if tag == "equal":
        return tag
    if i1 < i2 and j1 < j2:
        return "replace"
    return "delete" if i1 < i2 else "insert"


def opcodes(
    a: Sequence[str],
    b: Sequence[str],
    max_edits: int = MAX_EDITS,
    max_steps: int = MAX_STEPS,
    seconds: float = MAX_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[Opcode], bool]:
    """difflib-style opcodes from ``a`` to ``b``, and whether they align every line (False:
    the budget ran out and the differing middle is one ``replace``)."""
    n, m = len(a), len(b)
    head = 0
    while head < n and head < m and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < n - head and tail < m - head and a[n - 1 - tail] == b[m - 1 - tail]:
        tail += 1
    codes: dict[str, int] = {}
    mid_a = [codes.setdefault(line, len(codes)) for line in a[head : n - tail]]
    mid_b = [codes.setdefault(line, len(codes)) for line in b[head : m - tail]]
    middle: list[Opcode] = [("replace", 0, len(mid_a), 0, len(mid_b))]  # all of it changed
    exact = True
    if mid_a and mid_b:  # else only added or only removed lines: nothing to align
        try:
            middle = _myers(mid_a, mid_b, max_edits, _Budget(max_steps, seconds, clock))
        except _OutOfBudget:
            exact = False
    moves: list[Opcode] = [("equal", 0, head, 0, head)]
    moves += [(t, i1 + head, i2 + head, j1 + head, j2 + head) for t, i1, i2, j1, j2 in middle]
    moves.append(("equal", n - tail, n, m - tail, m))
    return _merge(moves), exact


def grouped(codes: list[Opcode], context: int = 3) -> list[list[Opcode]]:
    """Hunks: changes with ``context`` equal lines around them (difflib's grouping)."""
    if not codes or (len(codes) == 1 and codes[0][0] == "equal"):
        return []
    codes = list(codes)
    tag, i1, i2, j1, j2 = codes[0]
    if tag == "equal":
        codes[0] = tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2
    tag, i1, i2, j1, j2 = codes[-1]
    if tag == "equal":
        codes[-1] = tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _rows(a: Sequence[str], b: Sequence[str], groups: list[list[Opcode]]) -> list[DiffRow]:
    rows: list[DiffRow] = []
    for group in groups:
        first, last = group[0], group[-1]
        header = f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        rows.append(DiffRow("hunk", None, None, header))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    DiffRow("same", i1 + k + 1, j1 + k + 1, a[i1 + k]) for k in range(i2 - i1)
                )
                continue
            rows.extend(DiffRow("del", i + 1, None, a[i]) for i in range(i1, i2))
            rows.extend(DiffRow("add", None, j + 1, b[j]) for j in range(j1, j2))
        if len(rows) > MAX_ROWS:
            break
    return rows


def diff_rows(old: str, new: str, context: int = 3) -> list[DiffRow]:
    """A line diff as table rows with old and new line numbers (empty when equal)."""
    return compare(old, new, context).rows


def _lines(label: str, text: str, notes: list[str]) -> list[str]:
    """The lines of one side, or none (and a note) when it is over the limits."""
    size = len(text.encode("utf-8", "surrogatepass"))
    lines = text.splitlines() if size <= MAX_SIDE_BYTES else []
    if size > MAX_SIDE_BYTES:
        found = f"{size:,} bytes"
    elif len(lines) > MAX_SIDE_LINES:
        found = f"{len(lines):,} lines"
    else:
        return lines
    notes.append(
        f"Diff too large to show: {label} has {found}; the console compares up to "
        f"{MAX_SIDE_LINES:,} lines and {MAX_SIDE_BYTES:,} bytes (1 MiB) per side."
    )
    return []


def compare(old: str, new: str, context: int = 3) -> Diff:
    """The bounded line diff of two texts (see the module docstring for the limits)."""
    refused: list[str] = []
    a, b = _lines("the old side", old, refused), _lines("the new side", new, refused)
    if refused:
        return Diff(compared=False, notes=refused)
    codes, exact = opcodes(a, b)
    diff = Diff(
        added=sum(j2 - j1 for tag, _, _, j1, j2 in codes if tag != "equal"),
        removed=sum(i2 - i1 for tag, i1, i2, _, _ in codes if tag != "equal"),
    )
    if not exact:
        diff.notes.append(
            f"The two differ in too many places to align line by line (more than "
            f"{MAX_EDITS:,} changed lines, or more work than allowed): everything between "
            f"the first and the last difference is shown as removed, then added."
        )
    rows = _rows(a, b, grouped(codes, context))
    if len(rows) > MAX_ROWS:
        diff.notes.append(
            f"The diff is too long to show in full: showing its first {MAX_ROWS:,} rows."
        )
        rows = rows[:MAX_ROWS]
    diff.rows = rows
    return diff
