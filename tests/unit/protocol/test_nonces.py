"""The in-memory replay cache."""

from __future__ import annotations

import threading

import pytest

from openworks.protocol import MemoryNonceCache, NonceCache


def test_is_a_nonce_cache() -> None:
    cache: NonceCache = MemoryNonceCache()
    assert cache.check_and_add("k", "n", 0.0)


def test_second_use_within_window_is_refused() -> None:
    cache = MemoryNonceCache(window_seconds=10)
    assert cache.check_and_add("k", "n", 100.0)
    assert not cache.check_and_add("k", "n", 109.9)
    assert cache.check_and_add("k", "other", 100.0)
    assert cache.check_and_add("other", "n", 100.0)


def test_entry_expires_after_window_and_one_slice_at_most() -> None:
    cache = MemoryNonceCache(window_seconds=30)  # 30 slices of one second
    assert cache.check_and_add("k", "n", 100.5)
    assert not cache.check_and_add("k", "n", 130.4)  # still inside the window: refused
    assert cache.check_and_add("k", "n", 131.0)  # window + slice passed: forgotten
    assert not cache.check_and_add("k", "n", 140.0)


def test_key_and_nonce_are_not_concatenated() -> None:
    cache = MemoryNonceCache()
    assert cache.check_and_add("ab", "c", 0.0)
    assert cache.check_and_add("a", "bc", 0.0)


def test_expired_entries_are_dropped() -> None:
    cache = MemoryNonceCache(window_seconds=10)
    for i in range(100):
        cache.check_and_add("k", str(i), float(i) / 100)
    assert cache.size() == 100
    cache.check_and_add("k", "late", 50.0)
    assert cache.size() == 1


def test_bounded_evicts_oldest_chunk() -> None:
    cache = MemoryNonceCache(window_seconds=1000, max_entries=3)
    for nonce in "abc":
        assert cache.check_and_add("k", nonce, 1.0)
    assert cache.check_and_add("k", "d", 50.0)  # a later slice: the chunk of a, b, c goes
    assert cache.size() == 1
    assert cache.check_and_add("k", "a", 51.0)
    assert not cache.check_and_add("k", "d", 51.0)


def test_bounded_within_one_slice_keeps_the_bound() -> None:
    cache = MemoryNonceCache(window_seconds=1000, max_entries=3)
    for nonce in "abcd":
        assert cache.check_and_add("k", nonce, 1.0)
    assert cache.size() == 3
    assert not cache.check_and_add("k", "d", 1.0)  # the newest is never the one evicted


def test_replays_are_found_in_sealed_chunks() -> None:
    cache = MemoryNonceCache(chunk_size=4)
    for i in range(21):
        assert cache.check_and_add("k", str(i), 10.0 + i)
    assert cache.size() == 21
    assert not any(cache.check_and_add("k", str(i), 40.0) for i in range(21))
    assert cache.check_and_add("k", "21", 40.0)


class _OneBucket(MemoryNonceCache):
    """Every digest in the same filter bucket, so the bucket saturates."""

    @staticmethod
    def _digest(key: str, nonce: str) -> int:
        return (1 << 63) | int(nonce)


def test_a_saturated_filter_bucket_still_answers_exactly() -> None:
    cache = _OneBucket(window_seconds=30, chunk_size=100)
    for i in range(300):
        assert cache.check_and_add("k", str(i), 100.0)
    assert not any(cache.check_and_add("k", str(i), 101.0) for i in range(300))
    # all expire; the bucket stays marked but lookups stay exact
    assert cache.check_and_add("k", "0", 200.0)
    assert cache.size() == 1
    assert cache.check_and_add("k", "1", 200.0)
    assert not cache.check_and_add("k", "0", 201.0)


def test_filter_counts_return_to_zero_after_expiry() -> None:
    cache = MemoryNonceCache(window_seconds=30, chunk_size=8)
    for i in range(50):
        cache.check_and_add("k", str(i), 100.0 + i / 10)
    cache.check_and_add("k", "late", 1000.0)
    assert cache.size() == 1
    assert sum(cache._filter) == 1


def test_default_window_covers_both_sides_of_the_timestamp_window() -> None:
    cache = MemoryNonceCache()
    assert cache.check_and_add("k", "n", 0.0)
    assert not cache.check_and_add("k", "n", 1799.0)


@pytest.mark.parametrize(
    ("window", "size", "chunk"), [(0, 1, 1), (1, 0, 1), (-5, 10, 1), (1, 1, 0)]
)
def test_rejects_bad_configuration(window: int, size: int, chunk: int) -> None:
    with pytest.raises(ValueError):
        MemoryNonceCache(window_seconds=window, max_entries=size, chunk_size=chunk)


def test_concurrent_use_admits_each_nonce_once() -> None:
    cache = MemoryNonceCache()
    admitted: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results = [cache.check_and_add("k", str(i), 1.0) for i in range(500)]
        with lock:
            admitted.extend(results)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) == 500
