"""The replay cache shared by the processes of one SQLite database (store/nonce_file.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openworks.store import make_engine, migrate
from openworks.store.nonce_file import HEADER, FileNonceCache, nonce_path
from openworks.store.nonces import DatabaseNonceCache
from openworks.store.schema_scale import nonces


def test_a_pair_is_accepted_once_within_the_window(tmp_path: Path) -> None:
    cache = FileNonceCache(str(tmp_path / "n"), window_seconds=60)
    try:
        assert cache.check_and_add("key", "n1", 1000.0)
        assert not cache.check_and_add("key", "n1", 1001.0)
        assert not cache.check_and_add("key", "n1", 1059.9)
        assert cache.check_and_add("other-key", "n1", 1001.0)
        assert cache.check_and_add("key", "n2", 1001.0)
        assert cache.check_and_add("key", "n1", 1060.0)  # the window has passed
        assert not cache.check_and_add("key", "n1", 1061.0)
    finally:
        cache.close()


def test_two_openings_of_the_file_share_the_pairs(tmp_path: Path) -> None:
    first = FileNonceCache(str(tmp_path / "n"))
    second = FileNonceCache(str(tmp_path / "n"))
    try:
        assert first.check_and_add("key", "shared", 5.0)
        assert not second.check_and_add("key", "shared", 6.0)
        assert second.check_and_add("key", "other", 6.0)
        assert not first.check_and_add("key", "other", 7.0)
    finally:
        first.close()
        second.close()


def test_threads_racing_for_one_nonce_admit_one(tmp_path: Path) -> None:
    cache = FileNonceCache(str(tmp_path / "n"))
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def attempt() -> None:
        start.wait()
        ok = cache.check_and_add("key", "race", 2000.0)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache.close()
    assert results.count(True) == 1


_RACER = textwrap.dedent(
    """
    import sys, time
    from openworks.store.nonce_file import FileNonceCache
    cache = FileNonceCache(sys.argv[1])
    start = float(sys.argv[2])
    while time.time() < start:
        pass
    admitted = [n for n in range(300) if cache.check_and_add("key", f"n{n}", start)]
    print(" ".join(map(str, admitted)))
    """
)


def test_processes_racing_for_the_same_nonces_admit_each_once(tmp_path: Path) -> None:
    path = str(tmp_path / "n")
    FileNonceCache(path).close()  # made before the race, as serve's start-up does
    import time

    start = time.time() + 1.5
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, path, repr(start)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    admitted: list[int] = []
    for racer in racers:
        out, _ = racer.communicate(timeout=60)
        assert racer.returncode == 0
        admitted += [int(n) for n in out.split()]
    assert sorted(admitted) == list(range(300))  # each nonce by exactly one process


def test_a_full_neighbourhood_forgets_the_earliest_expiry_first(tmp_path: Path) -> None:
    cache = FileNonceCache(str(tmp_path / "n"), window_seconds=100, slots=1, probe=3)
    try:
        for n in range(3):
            assert cache.check_and_add("k", f"n{n}", 10.0 + n)
        assert cache.forgotten_early == 0
        assert cache.check_and_add("k", "n3", 20.0)  # never refused: the oldest goes
        assert cache.forgotten_early == 1
        assert cache.check_and_add("k", "n0", 21.0)  # n0 (earliest expiry) was forgotten
        assert not cache.check_and_add("k", "n2", 22.0)
        assert not cache.check_and_add("k", "n3", 22.0)
    finally:
        cache.close()


def test_expired_slots_are_reused_without_forgetting(tmp_path: Path) -> None:
    cache = FileNonceCache(str(tmp_path / "n"), window_seconds=10, slots=1, probe=2)
    try:
        assert cache.check_and_add("k", "a", 0.0)
        assert cache.check_and_add("k", "b", 0.0)
        assert cache.check_and_add("k", "c", 11.0)  # a and b have expired
        assert cache.check_and_add("k", "d", 11.0)
        assert cache.forgotten_early == 0
    finally:
        cache.close()


def test_a_file_of_another_layout_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "n"
    path.write_bytes(b"not a nonce file")
    cache = FileNonceCache(str(path), slots=8, probe=2)
    try:
        assert path.stat().st_size == HEADER + 2 * 10 * 8
        assert cache.check_and_add("k", "n", 1.0)
    finally:
        cache.close()
    reopened = FileNonceCache(str(path), slots=8, probe=2)  # same layout: kept
    try:
        assert not reopened.check_and_add("k", "n", 2.0)
    finally:
        reopened.close()


@pytest.mark.parametrize("slots, probe", [(3, 2), (8, 0)])
def test_bad_sizes_are_refused(tmp_path: Path, slots: int, probe: int) -> None:
    with pytest.raises(ValueError):
        FileNonceCache(str(tmp_path / "n"), slots=slots, probe=probe)


def test_the_database_cache_on_an_sqlite_file_keeps_nonces_beside_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/ow.db")
    migrate(engine)
    try:
        cache = DatabaseNonceCache(engine, window_seconds=60)
        assert cache.file is not None
        assert cache.file.path == nonce_path(str(tmp_path / "ow.db"))
        assert cache.check_and_add("key", "n1", 1000.0)
        assert not cache.check_and_add("key", "n1", 1001.0)
        other = DatabaseNonceCache(engine, window_seconds=60)  # another process's view
        assert not other.check_and_add("key", "n1", 1002.0)
        with engine.connect() as conn:  # nothing went through the database's write lock
            assert conn.execute(select(func.count()).select_from(nonces)).scalar_one() == 0
        cache.file.close()
        assert other.file is not None
        other.file.close()
    finally:
        engine.dispose()


def test_the_database_cache_of_an_in_memory_database_uses_the_table() -> None:
    engine = make_engine("sqlite://")
    migrate(engine)
    try:
        cache = DatabaseNonceCache(engine, window_seconds=60)
        assert cache.file is None
        assert cache.check_and_add("key", "n1", 1000.0)
        assert not cache.check_and_add("key", "n1", 1001.0)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(nonces)).scalar_one() == 1
    finally:
        engine.dispose()
