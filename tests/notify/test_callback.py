"""NotifyCallback on a real (tiny) Lightning trainer: milestones from the step count, a pause is
not an error, an exception is the urgent notice. No bus here (conftest): we read what the
notifier decided and recorded."""

from __future__ import annotations

from typing import Any

import pytest

from peftstudio.notify import NotifySettings, RunNotifier
from peftstudio.notify.decide import run_fraction

STEPS = 8


@pytest.mark.parametrize(("step", "total", "fraction"), [
    (0, 8, 0.0), (2, 8, 0.25), (8, 8, 1.0), (9, 8, 1.0), (3, 0, None), (3, float("inf"), None), (3, -1, None),
])
def test_run_fraction(step: int, total: float, fraction: float | None) -> None:
    assert run_fraction(step, total) == fraction


def _fit(callbacks: list[Any], fail_at: int | None = None, pause: Any = None) -> None:
    import lightning as L
    import torch

    class Tiny(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            if self.global_step == fail_at:
                raise RuntimeError("CUDA out of memory. Tried to allocate 1.00 GiB")
            if pause is not None and self.global_step == 3:
                pause.request("test")
            x, y = batch
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    data = torch.utils.data.TensorDataset(torch.randn(16, 4), torch.randn(16, 1))
    trainer = L.Trainer(max_steps=STEPS, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", devices=1, callbacks=callbacks)
    trainer.fit(Tiny(), torch.utils.data.DataLoader(data, batch_size=2))


@pytest.mark.slow
def test_trainer_progress_completion_error_and_pause() -> None:
    from peftstudio.callbacks.notify import NotifyCallback
    from peftstudio.callbacks.pause import PauseCallback, RunPaused

    own = NotifyCallback(NotifySettings(sound=False), run_name="fit")
    _fit([own])  # the callback made its own notifier and closed it at teardown
    done = own.notifier.deliveries
    assert [d.notice.milestone for d in done] == [25, 50, 75, 100]
    assert f"{STEPS} steps" in done[-1].notice.body and "final loss" in done[-1].notice.body
    assert own.state_dict() == {"sent": [25, 50, 75, 100], "finished": True}

    with RunNotifier(NotifySettings(sound=False)) as notifier, pytest.raises(RuntimeError, match="out of memory"):
        _fit([NotifyCallback(notifier=notifier)], fail_at=5)
    assert [(d.notice.kind, d.notice.urgency) for d in notifier.deliveries] == [
        ("progress", "normal"), ("progress", "normal"), ("error", "critical")]

    pause = PauseCallback(handle_signals=False)
    with RunNotifier(NotifySettings(sound=False)) as notifier, pytest.raises(RunPaused):
        _fit([pause, NotifyCallback(notifier=notifier)], pause=pause)
    assert [d.notice.kind for d in notifier.deliveries] == ["progress"]  # 25%, then a quiet pause
