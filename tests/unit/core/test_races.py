"""Races on the package lifecycle (issue 14, A-D): two threads on one database.

Each racing thread runs against a :class:`RacingStore`, which makes the two threads meet
right after each has read what it will decide on (the first hooked read of a write
transaction). Without locking both then decide from the same state; with the package row
locked first (PostgreSQL ``FOR UPDATE``; SQLite ``BEGIN IMMEDIATE``) the second thread is
still blocked when the first arrives, the meeting times out, and the second decides from
the state the first left. The tests fail on PostgreSQL without the lifecycle's
compare-and-set (set ``OPENWORKS_TEST_POSTGRES``); on SQLite they document the same rules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest

from openworks.core import checks, files, packages
from openworks.core.approvals import approve_package, reject_package
from openworks.core.context import Core
from openworks.core.errors import DomainError, Invalid
from openworks.core.extensions import add_extension
from openworks.core.ports import Store
from openworks.core.workspace_settings import set_settings
from openworks.store import SqlStore, make_engine, migrate
from openworks.store.identity import ensure_account
from tests.dbutil import fresh_database_url

from .conftest import ROOT, Clock
from .test_lifecycle_rules import new_file, run_all, workspace

MEET_TIMEOUT = 1.0


class Racer:
    """Two armed threads meet once, at their first hooked call."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2)
        self.local = threading.local()

    def arm(self) -> None:
        self.local.armed = True

    def meet(self) -> None:
        if getattr(self.local, "armed", False):
            self.local.armed = False
            with suppress(threading.BrokenBarrierError):
                self.barrier.wait(MEET_TIMEOUT)


class _Hooked:
    def __init__(self, inner: Any, racer: Racer, names: frozenset[str]) -> None:
        self._inner, self._racer, self._names = inner, racer, names

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._inner, name)
        if name == "checks":
            return lambda: _Hooked(real(), self._racer, self._names)
        if name not in self._names:
            return real

        def hooked(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            self._racer.meet()
            return result

        return hooked


class RacingStore:
    """The store, with the named reads of write transactions followed by a meeting."""

    def __init__(self, store: Store, racer: Racer, names: set[str]) -> None:
        self.store, self.racer, self.names = store, racer, frozenset(names)

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Any]:
        with self.store.transaction(write) as tx:
            yield _Hooked(tx, self.racer, self.names) if write else tx


@pytest.fixture
def core() -> Iterator[Core]:
    """A file-backed database (threads need connections of their own)."""
    engine = make_engine(fresh_database_url("race"))
    migrate(engine)
    ensure_account(engine, ROOT.account_id)
    yield checks.install(Core(SqlStore(engine), clock=Clock()))
    engine.dispose()


def racing(
    core: Core, racer: Racer, names: set[str], clock: Callable[[], int] | None = None
) -> Core:
    return checks.install(Core(RacingStore(core.store, racer, names), clock=clock or core.clock))


def race(racer: Racer, *calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in armed threads at once; each one's result or DomainError."""
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        racer.arm()
        try:
            results[n] = calls[n]()
        except DomainError as err:
            results[n] = err

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _refused(result: Any, code: str) -> bool:
    return isinstance(result, Invalid) and result.code == code


def _one_check(core: Core, ident: str) -> tuple[Any, int, int]:
    """A standard workspace whose commit waits for one extension's verdict."""
    ref = workspace(core, ident=ident)
    add_extension(
        core, ROOT, "ext1", "x", ["commit-file"], "http://127.0.0.1:9/x", "secret-123", [ref]
    )
    fid = new_file(core, ref)
    pid = packages.submit_file(core, ROOT, ref, fid, None)
    return ref, fid, pid


def _event(core: Core, pid: int) -> Any:
    with core.store.transaction() as tx:
        [event] = tx.checks().events_for_package(pid)
        return event


def _run_status(core: Core, pid: int) -> str:
    with core.store.transaction() as tx:
        [run] = tx.checks().runs_for_package(pid)
        return str(run.status)


# -- A: an OK and a FAIL verdict for one event at the same instant ------------------------


def test_a_two_verdicts_at_once_one_wins(core: Core) -> None:
    ref, _, pid = _one_check(core, "ws_race_a")
    message = _event(core, pid).message_id
    racer = Racer()
    fast = racing(core, racer, {"runs_for_event", "lock_package"})
    ok, fail = race(
        racer,
        lambda: checks.answer_check(fast, ROOT, message, "ext1", "OK", "fine"),
        lambda: checks.answer_check(fast, ROOT, message, "ext1", "FAIL", "bad"),
    )
    refused = [r for r in (ok, fail) if _refused(r, "Invalid.Extension.AlreadyAnswered")]
    assert len(refused) == 1, (ok, fail)
    winner = "OK" if fail in refused else "FAIL"
    package = packages.get_deployment(core, ROOT, ref, pid)
    assert _run_status(core, pid) == winner
    assert package.checking_status == (None if winner == "OK" else 7)
    assert package.hold is None


# -- B: a verdict near the deadline; two workers settling one gate ------------------------


def test_b_verdict_and_timeout_agree(core: Core) -> None:
    ref, _, pid = _one_check(core, "ws_race_b1")
    event = _event(core, pid)
    racer = Racer()
    answering = racing(core, racer, {"runs_for_event", "lock_package"}, lambda: event.deadline - 1)
    settling = racing(core, racer, {"runs_for_package"}, lambda: event.deadline)
    answered, _settled = race(
        racer,
        lambda: checks.answer_check(answering, ROOT, event.message_id, "ext1", "OK", ""),
        lambda: checks.settle_due(settling),
    )
    package = packages.get_deployment(core, ROOT, ref, pid)
    if answered is None:  # the verdict counted: the gate passed on it
        assert (_run_status(core, pid), package.checking_status) == ("OK", None)
    else:  # the timeout came first: the verdict is refused, not lost
        assert _refused(answered, "Invalid.Extension.AlreadyAnswered"), answered
        assert (_run_status(core, pid), package.checking_status) == ("FAIL", 7)
    assert package.hold is None


def test_b_two_workers_settle_one_gate_once(core: Core) -> None:
    ref, _, pid = _one_check(core, "ws_race_b2")
    deadline = _event(core, pid).deadline
    racer = Racer()
    worker = racing(core, racer, {"package", "lock_package"}, lambda: deadline)
    first, second = race(
        racer, lambda: checks.settle_due(worker), lambda: checks.settle_due(worker)
    )
    assert sorted([first, second]) == [[], [pid]]
    assert run_all(core) == [pid]
    assert run_all(core) == []
    package = packages.get_deployment(core, ROOT, ref, pid)
    assert (package.status, package.checking_status) == (1, 7)


def test_b_stale_settle_cannot_rewrite_an_executed_package(core: Core) -> None:
    # a worker reads the gate, another settles it and executes the package meanwhile:
    # the first must not write its stale copy back (that re-queued the package before)
    ref, _, pid = _one_check(core, "ws_race_b3")
    deadline = _event(core, pid).deadline
    racer = Racer()
    executed = threading.Event()
    slow = racing(core, racer, {"package", "lock_package"}, lambda: deadline)
    other = checks.install(Core(core.store, clock=lambda: deadline))

    def stale_settle() -> list[int]:
        racer.arm()
        original = racer.meet

        def meet_then_wait() -> None:
            if getattr(racer.local, "armed", False):
                original()
                executed.wait(2 * MEET_TIMEOUT)

        racer.meet = meet_then_wait  # type: ignore[method-assign]
        return checks.settle_due(slow)

    def settle_and_run() -> list[int]:
        with suppress(threading.BrokenBarrierError):
            racer.barrier.wait(MEET_TIMEOUT)
        moved = checks.settle_due(other)
        ran = run_all(other)
        executed.set()
        return moved + ran

    results: list[Any] = [None, None]
    threads = [
        threading.Thread(target=lambda: results.__setitem__(0, stale_settle())),
        threading.Thread(target=lambda: results.__setitem__(1, settle_and_run())),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert (results[0] + results[1]).count(pid) == 2  # settled once, executed once
    assert run_all(core) == []  # the stale settle did not queue it again
    package = packages.get_deployment(core, ROOT, ref, pid)
    assert (package.status, package.hold) == (1, None)
    assert run_all(core) == []
    _, version = files.get_version(core, ROOT, ref, package.items[0].file_id, 1)
    assert version.status == "COMMITTED"


# -- C: approve and reject of one package at once ------------------------------------------


def _awaiting_approval(core: Core, ident: str) -> tuple[Any, int, int]:
    ref = workspace(core, ident=ident)
    set_settings(core, ROOT, ref, {"approval.required": "true"})
    fid = new_file(core, ref)
    packages.submit_file(core, ROOT, ref, fid, None)
    run_all(core)
    return ref, fid, packages.deploy_file(core, ROOT, ref, fid, None, None)


def test_c_approve_and_reject_at_once_one_wins(core: Core) -> None:
    ref, fid, pid = _awaiting_approval(core, "ws_race_c")
    racer = Racer()
    fast = racing(core, racer, {"package", "lock_package"})
    approved, rejected = race(
        racer,
        lambda: approve_package(fast, ROOT, pid),
        lambda: reject_package(fast, ROOT, pid, "no"),
    )
    refused = [r for r in (approved, rejected) if _refused(r, "Invalid.Deploy.NotAwaitingApproval")]
    assert len(refused) == 1, (approved, rejected)
    package = packages.get_deployment(core, ROOT, ref, pid)
    _, file = files.get_file(core, ROOT, ref, fid, None)
    if approved in refused:
        assert (package.status, file.prod_version) == (6, None)
    else:
        assert (package.status, file.prod_version) == (1, 1)


def test_c_two_approvals_run_once(core: Core) -> None:
    ref, _, pid = _awaiting_approval(core, "ws_race_c2")
    racer = Racer()
    fast = racing(core, racer, {"package", "lock_package"})
    results = race(
        racer, lambda: approve_package(fast, ROOT, pid), lambda: approve_package(fast, ROOT, pid)
    )
    assert sum(_refused(r, "Invalid.Deploy.NotAwaitingApproval") for r in results) == 1, results
    assert packages.get_deployment(core, ROOT, ref, pid).status == 1


# -- D: stale packages of one file ----------------------------------------------------------


def _two_versions_committed(core: Core, ident: str) -> tuple[Any, int, int]:
    """v1's deploy waits for approval while v2 is committed."""
    ref, fid, first = _awaiting_approval(core, ident)
    files.update_file(core, ROOT, ref, fid, {"Content": "select 2"})
    packages.submit_file(core, ROOT, ref, fid, None)
    run_all(core)
    return ref, fid, first


def test_d_delete_refused_while_an_older_version_is_deploying(core: Core) -> None:
    ref, fid, _ = _two_versions_committed(core, "ws_race_d1")
    with pytest.raises(Invalid) as err:
        packages.delete_file(core, ROOT, ref, fid)
    assert err.value.code == "Invalid.File.Busy"
    assert "Version 1" in err.value.message


def test_d_older_package_approved_after_newer_is_refused_as_stale(core: Core) -> None:
    ref, fid, first = _two_versions_committed(core, "ws_race_d2")
    second = packages.deploy_file(core, ROOT, ref, fid, None, None)
    assert approve_package(core, ROOT, second).status == 1
    stale = approve_package(core, ROOT, first)
    assert stale.status == 2 and [i.status for i in stale.items] == [4]
    assert "stale" in (stale.error_message or "") and "version 2" in (stale.error_message or "")
    _, file = files.get_file(core, ROOT, ref, fid, None)
    assert file.prod_version == 2
    _, v1 = files.get_version(core, ROOT, ref, fid, 1)
    _, v2 = files.get_version(core, ROOT, ref, fid, 2)
    assert (v1.status, v2.status) == ("COMMITTED", "DEPLOYED")
    with core.store.transaction() as tx:
        node = tx.node(2, file.node_id or 0)
        assert node is not None and node.file_version == 2
