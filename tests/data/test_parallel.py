"""Shared-memory slots through which forked workers hand arrays back."""

from __future__ import annotations

import numpy as np
import pytest

from peftstudio.data.parallel import Placed, Slots
from tests.data.fresh import run_fresh


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


# Forking is only safe from a process running one Python thread (this test process may run others by
# now), so the workers are tried in a fresh interpreter, as the check itself would run them.
_FORKED = """
import json, platform
import numpy as np
from peftstudio.data import parallel

assert parallel.fork_is_safe()
slots = parallel.Slots(count=3, size=1 << 20)
SHARED = [slots]  # (set before the fork: the workers find the slots here, as the check's workers do)

def fill(slot, n):
    return SHARED[0].put(slot, {"values": np.arange(n, dtype=np.float64) * 0.5}), parallel.keep_freed_memory()

pool = parallel.fork_pool(2)
with pool:
    work = [(slots.acquire(), n) for n in (10, 100_000, 5)]
    results = [pool.submit(fill, slot, n) for slot, n in work]
    results = [r.result() for r in results]
same = [slots.take(slot, placed)["values"].tolist() == (np.arange(n) * 0.5).tolist()
        for (slot, n), (placed, _) in zip(work, results)]
print(json.dumps({"same": same, "malloc": [taken for _, taken in results],
                  "glibc": platform.libc_ver()[0] == "glibc"}))
"""


def test_forked_workers_write_what_the_parent_reads_and_keep_their_freed_memory() -> None:
    result = run_fresh(_FORKED, timeout=120)
    assert result["same"] == [True, True, True]
    assert result["malloc"] == [result["glibc"]] * 3  # (glibc only: elsewhere the default allocator stays)
