"""Issue 23 point 5: the memory guard measures this process's share, as the planner budgets it."""

from __future__ import annotations

from unittest import mock

import pytest
import torch

from peftstudio.callbacks import memory
from peftstudio.callbacks.memory import decide, gpu_reading

GIB = 2**30


def test_planned_run_is_not_shrunk() -> None:
    # an 80 GB card: 4 GB taken by the CUDA context and another program, so 76 GB free at the start;
    # the planner allowed 85 % of that (64.6 GB) and the run holds that much
    reading = gpu_reading(free_bytes=76 * GIB - int(64.6 * GIB), reserved_bytes=int(64.6 * GIB))
    assert reading.fraction == pytest.approx(0.85)
    assert not decide([reading.fraction] * 3, micro_batch_size=4, gradient_accumulation=1).triggered


def test_another_program_taking_memory_raises_the_fraction() -> None:
    before = gpu_reading(free_bytes=20 * GIB, reserved_bytes=40 * GIB)
    after = gpu_reading(free_bytes=2 * GIB, reserved_bytes=40 * GIB)
    assert after.fraction > 0.9 > before.fraction


def test_read_memory_uses_this_process_on_its_device() -> None:
    # stand-ins for the CUDA calls: device 1 (this rank), 10 GB free of 80, 60 GB reserved by us
    with mock.patch.object(torch.cuda, "is_available", return_value=True), \
            mock.patch.object(torch.cuda, "current_device", return_value=1), \
            mock.patch.object(torch.cuda, "mem_get_info", return_value=(10 * GIB, 80 * GIB)) as info, \
            mock.patch.object(torch.cuda, "memory_reserved", return_value=60 * GIB) as reserved:
        reading = memory.read_memory()
    info.assert_called_once_with(1)
    reserved.assert_called_once_with(1)
    assert (reading.used_bytes, reading.total_bytes, reading.device) == (60 * GIB, 70 * GIB, "gpu")
