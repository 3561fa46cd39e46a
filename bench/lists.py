"""Scenario 11: the four lists at the large and the small size, by filter kind, with exact
``TotalCount`` (issue 18, target 4).

Lists and the filters each gets (row shares: bench/seed_shape.py)::

    ListDeployments         2020 POST   (i) Status + Creator   (ii) Keyword   (iii) Keyword
    ListDeploymentPackages  2024 POST   (i) Status + Creator   (ii) Keyword   (iii) Keyword
    ListPipelineRuns        2024 GET    (i) Status + Creator   (ii) ObjectId  (no Keyword)
    ListFiles               2020 POST   (i) Owner + FileTypes  (ii) Keyword   (iii) Keyword
                            2024 POST   (i) Owner + CommitStatus (a file's status: 2024 only)

    (i)   twice: FAILED (type Shell, uncommitted) + the second user, 0.5 % of rows; SUCCESS
          (type ODPS SQL, committed) + root, 85.5 %
    (ii)  ``needle``, 0.1 % of rows (ListPipelineRuns: one file's ObjectId, one run)
    (iii) ``daily``, 85 % of rows: reported, no target

Both sizes' servers run side by side; per case::

    one signed request to each ─▶ TotalCount == what the seed made? (else the row fails)
        ─▶ ROUNDS rounds: large ─▶ small (order rotated) ─▶ req/s = median,
           flatness = median of the rounds' large / small ─▶ 3 rows (large, small, flatness)

A list answering faster than ``RATE_CAP`` a second would replay its batch: the replays are
refused and show as errors (the row fails). The target is the ratio to the subject's own
small-size figure (≥ 0.5 for (i) and (ii)),
no baseline. The seeded databases must hold only seeded rows: the scenarios that write
(4, 10, 13) run on a copy (bench/run.py).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from openworks.config import DEFAULT_ACCOUNT_ID

from . import seed_shape as shape
from .load import Result, signed
from .procs import Proc, post, start_subject
from .scenarios import HOST, Bench, Maker, Row
from .seed import OTHER_USER, Seeded

__all__ = ["CASES", "Case", "list_rows"]

Pred = Callable[[int], bool]
RATE_CAP = 2500.0  # requests signed a second of load: above any list's rate (signing costs)
ROUNDS = 2  # 15 cases x 2 sizes: more rounds would cost minutes of the full run


@dataclass(frozen=True)
class Case:
    lst: str  # the list operation (and its version's signer below)
    kind: str  # "(i) ...", "(ii) ...", "(iii) ..."
    signer: str
    filters: Callable[[Seeded], dict[str, str]]
    matches: Pred  # which seeded row k the filter matches
    target: float | None  # flatness target; None: report only
    total: tuple[str, ...] = ("Data", "TotalCount")

    @property
    def name(self) -> str:
        return f"11 {self.lst} {self.kind}"

    def params(self, s: Seeded) -> dict[str, str]:
        return {"ProjectId": str(s.project_id), "PageNumber": "1", "PageSize": "10",
                **self.filters(s)}  # fmt: skip


def _both(a: Pred, b: Pred) -> Pred:
    return lambda k: a(k) and b(k)


def _not(p: Pred) -> Pred:
    return lambda k: not p(k)


_FAILED_OTHER = _both(shape.failed, shape.other)
_OK_ROOT = _both(_not(shape.failed), _not(shape.other))
_NEEDLE_K = 500  # the seeded row whose file ListPipelineRuns' ObjectId names


def _fixed(params: dict[str, str]) -> Callable[[Seeded], dict[str, str]]:
    return lambda _s: dict(params)


def _deployment_cases(lst: str, signer: str) -> list[Case]:
    return [
        Case(lst, "(i) FAILED + 2nd user", signer,
             _fixed({"Status": "2", "Creator": OTHER_USER}), _FAILED_OTHER, 0.5),
        Case(lst, "(i) SUCCESS + root", signer,
             _fixed({"Status": "1", "Creator": DEFAULT_ACCOUNT_ID}), _OK_ROOT, 0.5),
        Case(lst, "(ii) Keyword 0.1 %", signer, _fixed({"Keyword": "needle"}), shape.needle,
             0.5),
        Case(lst, "(iii) Keyword 85 %", signer, _fixed({"Keyword": "daily"}), shape.daily,
             None),
    ]  # fmt: skip


def _object(s: Seeded) -> dict[str, str]:
    return {"ObjectId": str(s.first_file_id + _NEEDLE_K)}  # file k is package k's


RUNS = ("PagingInfo", "TotalCount")
CASES: list[Case] = [
    *_deployment_cases("ListDeployments", "acs3"),
    *_deployment_cases("ListDeploymentPackages", "post2024"),
    Case("ListPipelineRuns", "(i) Fail + 2nd user", "get2024",
         _fixed({"Status": "Fail", "Creator": OTHER_USER}), _FAILED_OTHER, 0.5, RUNS),
    Case("ListPipelineRuns", "(i) Success + root", "get2024",
         _fixed({"Status": "Success", "Creator": DEFAULT_ACCOUNT_ID}), _OK_ROOT, 0.5, RUNS),
    Case("ListPipelineRuns", "(ii) ObjectId, 1 run", "get2024", _object,
         lambda k: k == _NEEDLE_K, 0.5, RUNS),
    Case("ListFiles", "(i) Shell + 2nd user", "acs3",
         _fixed({"Owner": OTHER_USER, "FileTypes": "6"}), _FAILED_OTHER, 0.5),
    Case("ListFiles", "(i) ODPS SQL + root", "acs3",
         _fixed({"Owner": DEFAULT_ACCOUNT_ID, "FileTypes": "10"}), _OK_ROOT, 0.5),
    Case("ListFiles", "(i) 2024 uncommitted + 2nd user", "post2024",
         _fixed({"Owner": OTHER_USER, "CommitStatus": "0"}), _FAILED_OTHER, 0.5),
    Case("ListFiles", "(i) 2024 committed + root", "post2024",
         _fixed({"Owner": DEFAULT_ACCOUNT_ID, "CommitStatus": "1"}), _OK_ROOT, 0.5),
    Case("ListFiles", "(ii) Keyword 0.1 %", "acs3", _fixed({"Keyword": "needle"}),
         shape.needle, 0.5),
    Case("ListFiles", "(iii) Keyword 85 %", "acs3", _fixed({"Keyword": "daily"}), shape.daily,
         None),
]  # fmt: skip


def expected(case: Case, s: Seeded) -> int:
    """The rows of ``s`` the case's filter matches, by the seed's own rule."""
    return shape.count(s.packages, case.matches)


def total_count(proc: Proc, case: Case, s: Seeded) -> int | str:
    """TotalCount of one signed request, or what went wrong instead."""
    method, target, headers, body = signed(HOST, case.lst, case.params(s), case.signer)
    status, answer = post(proc.port, headers, body, method, target)
    if status != 200:
        return f"HTTP {status} {answer[:120].decode(errors='replace')}"
    doc: Any = orjson.loads(answer)
    for key in case.total:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc if isinstance(doc, int) else f"no {'.'.join(case.total)} in the answer"


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n:,}"


def list_rows(bench: Bench, large: Seeded, small: Seeded, seconds: float, conns: int = 8) -> None:
    """Scenario 11: every case of :data:`CASES` at both sizes (rows and ``raw``)."""
    sizes = (large, small)
    procs = [start_subject(bench.workdir, s.database_url, name=f"lists-{s.packages}")
             for s in sizes]  # fmt: skip
    try:
        for case in CASES:
            _case(bench, case, list(zip(sizes, procs, strict=True)), seconds, conns)
    finally:
        for p in procs:
            p.stop()


def _maker(case: Case, s: Seeded) -> Maker:
    params = case.params(s)
    return lambda: (case.lst, dict(params))


def _case(
    bench: Bench, case: Case, servers: list[tuple[Seeded, Proc]], seconds: float, conns: int
) -> None:
    counts = [(total_count(p, case, s), expected(case, s)) for s, p in servers]
    runs: list[list[Result]] = [[] for _ in servers]
    for r in range(ROUNDS):
        order = list(range(len(servers)))
        order = order[r % 2 :] + order[: r % 2]
        for i in order:
            s, p = servers[i]
            make = _maker(case, s)
            runs[i].append(bench.load(p, make, seconds, conns, case.signer, RATE_CAP))
    exact = all(got == want for got, want in counts)
    bench.raw[f"lists {case.lst} {case.kind}"] = {
        "counts": counts,
        "runs": [[vars(x) for x in rs] for rs in runs],
    }
    for (s, _), rs, (got, want) in zip(servers, runs, counts, strict=True):
        ok = got == want
        errors = sum(x.non_2xx + x.socket_errors for x in rs)
        note = (
            f"p50 {statistics.median(x.p50_ms for x in rs):.1f} ms, TotalCount {got}"
            + ("" if ok else f" but the seed made {want}: WRONG")
            + (f" (= seed, {want / s.packages:.2%})" if ok else "")
            + f"; server CPU {statistics.median(x.cpu_us_per_request for x in rs):.0f} us/req"
            + (f"; {errors} errors" if errors else "")
        )
        bench.rows.append(Row(case.name, f"req/s at {_label(s.packages)}",
                              statistics.median(x.rps for x in rs), "req/s",
                              target="exact TotalCount", met=ok and errors == 0,
                              note=f"p99 {statistics.median(x.p99_ms for x in rs):.1f} ms, "
                                   + note))  # fmt: skip
    big, little = runs[0], runs[1]
    flat = statistics.median(x.rps / max(y.rps, 1e-9) for x, y in zip(big, little, strict=True))
    label = f"{_label(servers[0][0].packages)} / {_label(servers[1][0].packages)}"
    if case.target is None:
        met, target = (None if exact else False), "report only"
    else:
        met, target = exact and flat >= case.target, f">= {case.target}, exact counts"
    bench.rows.append(Row(case.name, f"flatness {label}", flat, "x", target=target, met=met,
                          note="median of the rounds' large / small req/s"))  # fmt: skip
