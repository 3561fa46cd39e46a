"""The shape of seeded row ``k`` (0-based): one rule for the seed and for the counts the list
scenario expects, so a ``TotalCount`` can be checked against what the seed made.

Row ``k`` of each kind (package ``k``, its file ``k``, its mirror run ``k``)::

    failed   k % 20 == 7              5 %    package Status 2 (else 1), run Fail (else
                                              Success), file type 6 Shell (else 10 ODPS SQL)
                                              and CommitStatus 0 (else 1)
    other    (k // 20) % 10 == 3      10 %   creator / owner the second user (else root)
    daily    k % 20 < 17              85 %   the name carries ``daily`` (else ``hourly``)
    needle   k % 1000 == 500          0.1 %  the name carries ``needle`` too

``failed`` and ``other`` are independent (failed ∧ other = 0.5 %, ¬failed ∧ ¬other = 85.5 %),
every package name contains ``table`` (scenario 3's filter Status 1 + ``table`` + root
still matches 85.5 %), and no token is a substring of another name part.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LAYOUT", "count", "daily", "failed", "needle", "other", "tag"]

LAYOUT = 3  # bump when the seeded shape changes: cached databases are seeded again


def failed(k: int) -> bool:
    return k % 20 == 7


def other(k: int) -> bool:
    return (k // 20) % 10 == 3


def daily(k: int) -> bool:
    return k % 20 < 17


def needle(k: int) -> bool:
    return k % 1000 == 500


def tag(k: int) -> str:
    """The name part that carries the keyword tokens of row ``k``."""
    return ("daily" if daily(k) else "hourly") + ("_needle" if needle(k) else "")


def count(n: int, predicate: Callable[[int], bool]) -> int:
    """How many of the rows ``0 .. n-1`` the predicate holds for."""
    return sum(1 for k in range(n) if predicate(k))
