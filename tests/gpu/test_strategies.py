"""Issue 23 points 6 and 7: unsupported strategies are refused; the model stays on its device at teardown."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from peftstudio.engine.trainer import (
    DDPStayOnDevice,
    SingleDeviceStayOnDevice,
    build_trainer,
    plan_trainer,
    strategy_for,
)
from peftstudio.errors import PlainError
from peftstudio.records import TrainingSettings


def _plan(cuda: bool, **kw: object):  # type: ignore[no-untyped-def]
    return plan_trainer(TrainingSettings(**kw), batches_per_epoch=4, has_validation=False, cuda=cuda)


@pytest.mark.parametrize("strategy", ["fsdp", "deepspeed"])
def test_fsdp_and_deepspeed_are_refused_plainly(strategy: str, tmp_path: object) -> None:
    with pytest.raises(PlainError) as err:
        build_trainer(_plan(True, devices=2, strategy=strategy), [], root_dir=str(tmp_path))
    assert err.value.info.code == "config_invalid" and strategy in err.value.info.explanation
    assert "ddp" in err.value.info.explanation


def test_gpu_strategies_keep_the_model_on_its_device() -> None:
    assert isinstance(strategy_for(_plan(True)), SingleDeviceStayOnDevice)
    assert isinstance(strategy_for(_plan(True, devices=2, strategy="ddp")), DDPStayOnDevice)
    assert strategy_for(_plan(False, devices=2, strategy="ddp")) == "ddp"


class _Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        return self.layer(batch).sum()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_teardown_does_not_move_the_model_to_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    moved: list[str] = []
    original = torch.nn.Module.cpu
    monkeypatch.setattr(torch.nn.Module, "cpu", lambda self: (moved.append(type(self).__name__), original(self))[1])
    data = torch.utils.data.DataLoader(torch.ones(4, 2), batch_size=2)

    def run(strategy: object) -> None:
        trainer = L.Trainer(accelerator="cpu", devices=1, strategy=strategy, max_steps=1, logger=False,  # type: ignore[arg-type]
                            enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
        trainer.fit(_Tiny(), data)

    run("auto")
    assert "_Tiny" in moved  # Lightning's own strategy moves the model at teardown
    moved.clear()
    run(SingleDeviceStayOnDevice(device=torch.device("cpu")))  # stand-in for cuda:0
    assert "_Tiny" not in moved
