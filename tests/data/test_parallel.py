"""Shared-memory slots through which forked workers hand arrays back."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from peftstudio.data.parallel import Placed, Slots, fork_is_safe


def test_arrays_come_back_equal_in_dtype_shape_and_values() -> None:
    slots = Slots(count=2, size=1 << 16)
    arrays = {"flags": np.array([True, False, True]), "sigs": np.arange(64, dtype=np.uint16).reshape(2, 32),
              "digests": np.array([2**64 - 1, 7], dtype=np.uint64), "empty": np.zeros(0, dtype=np.int64),
              "strided": np.arange(20, dtype=np.int32)[::3]}
    slot = slots.acquire()
    placed = slots.put(slot, arrays)
    assert all(isinstance(p, Placed) for p in placed.values())
    assert all(p.offset % 64 == 0 and slot * slots.size <= p.offset < (slot + 1) * slots.size
               for p in placed.values())
    back = slots.take(slot, placed)
    for name, array in arrays.items():
        assert back[name].dtype == array.dtype and back[name].shape == array.shape
        assert (back[name] == array).all()
    slots.close()


def test_an_array_too_big_for_its_slot_travels_as_it_is_and_the_others_still_fit() -> None:
    slots = Slots(count=1, size=256)
    small, big = np.arange(8, dtype=np.int64), np.arange(100, dtype=np.int64)
    slot = slots.acquire()
    placed = slots.put(slot, {"small": small, "big": big, "after": small + 1})
    assert isinstance(placed["small"], Placed) and placed["big"] is not None and not isinstance(placed["big"], Placed)
    assert isinstance(placed["after"], Placed)
    back = slots.take(slot, placed)
    assert back["big"].tolist() == big.tolist() and back["after"].tolist() == (small + 1).tolist()


def test_slots_are_handed_out_once_until_taken_back() -> None:
    slots = Slots(count=2, size=64)
    a, b = slots.acquire(), slots.acquire()
    assert a != b
    with pytest.raises(IndexError):
        slots.acquire()
    slots.take(a, {})
    assert slots.acquire() == a


_SHARED: list[Slots] = []  # (the forked worker finds the slots here, as the check's workers do)


def _fill(slot: int, n: int) -> dict[str, object]:
    return _SHARED[0].put(slot, {"values": np.arange(n, dtype=np.float64) * 0.5})


@pytest.mark.skipif(not fork_is_safe(), reason="forking needs a single-threaded process")
def test_a_forked_worker_writes_what_the_parent_reads() -> None:
    slots = Slots(count=3, size=1 << 20)
    _SHARED[:] = [slots]  # before the fork
    with multiprocessing.get_context("fork").Pool(1) as pool:
        work = [(slots.acquire(), n) for n in (10, 1000, 5)]
        results = [pool.apply(_fill, (slot, n)) for slot, n in work]
    for (slot, n), placed in zip(work, results):
        assert slots.take(slot, placed)["values"].tolist() == (np.arange(n) * 0.5).tolist()


@pytest.mark.skipif(not fork_is_safe(), reason="forking needs a single-threaded process")
def test_workers_keep_the_memory_they_free_where_glibc_allows_it() -> None:
    """The pool's workers take the malloc settings at their start (glibc) and still compute as before."""
    import platform

    from peftstudio.data.parallel import fork_pool, keep_freed_memory

    pool = fork_pool(2)
    assert pool is not None
    with pool:
        taken = list(pool.map(_settings_taken, range(2)))
    expected = platform.libc_ver()[0] == "glibc"
    assert taken == [expected, expected]
    assert keep_freed_memory.__doc__


def _settings_taken(_: int) -> bool:
    from peftstudio.data.parallel import keep_freed_memory

    return keep_freed_memory()  # (idempotent: the initializer has already run)
