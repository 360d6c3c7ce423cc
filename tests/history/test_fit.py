from __future__ import annotations

import json
from pathlib import Path

import pytest

from peftstudio.cli.main import main
from peftstudio.hardware import simulated_hardware
from peftstudio.history.fit import fit_to_hardware
from peftstudio.history.presets import Preset, get_preset, import_preset, preset_json
from peftstudio.planner.plan import plan
from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings


def _preset_for_24gb() -> RunConfig:
    """A 16-bit preset that fits a 24 GB GPU, made by the planner there and with a bigger micro-batch."""
    made_on = simulated_hardware(gpu_memory_gb=24)
    cfg = plan(made_on, "llama-3.2-3b", "chatbot").run_config("chat.jsonl", name="made on 24 GB")
    training = TrainingSettings(**{**{f: getattr(cfg.training, f) for f in (
        "learning_rate", "epochs", "precision", "lr_scheduler", "seed")},
        "micro_batch_size": 4, "gradient_accumulation": 4, "gradient_checkpointing": True,
        "quantization": "none", "sequence_length": 1024})
    cfg = RunConfig(profile=cfg.profile, model=cfg.model, data=cfg.data, lora=cfg.lora, training=training,
                    name=cfg.name)
    assert fit_to_hardware(cfg, made_on).adjustments == ()  # it really fits where it was made
    return cfg


def test_24gb_preset_imported_on_8gb_gets_adjusted_settings_with_reasons(tmp_path: Path) -> None:
    cfg = _preset_for_24gb()
    file = tmp_path / "p.json"
    file.write_text(preset_json(Preset(name="big", config=cfg)))
    result = import_preset(file, hardware=simulated_hardware(gpu_memory_gb=8))
    changes = {a.setting: a for a in result.adjustments}
    assert changes["training.quantization"].old == "none" and changes["training.quantization"].new == "4bit"
    assert "4-bit because" in changes["training.quantization"].reason
    assert "8.0 GB" in changes["training.quantization"].reason
    assert changes["training.micro_batch_size"].new < 4
    assert all(a.reason for a in result.adjustments)
    stored = get_preset("big").config.training
    assert stored.quantization == "4bit" and stored.micro_batch_size == changes["training.micro_batch_size"].new
    # the examples per learning step are kept
    assert stored.micro_batch_size * stored.gradient_accumulation >= 16
    assert stored.learning_rate == cfg.training.learning_rate and stored.sequence_length == 1024
    check = plan(simulated_hardware(gpu_memory_gb=8), "llama-3.2-3b", "chatbot", overrides={
        "quantization": stored.quantization, "micro_batch_size": stored.micro_batch_size,
        "gradient_checkpointing": stored.gradient_checkpointing, "sequence_length": stored.sequence_length})
    assert check.memory.fits


@pytest.mark.parametrize(
    ("training", "hardware", "setting", "new"),
    [
        ({"precision": "bf16"}, {"gpu": "T4"}, "training.precision", "fp16"),
        ({"precision": "bf16"}, {}, "training.precision", "fp32"),
        ({"quantization": "4bit", "precision": "fp32"}, {}, "training.quantization", "none"),
        ({"devices": 4, "strategy": "ddp"}, {"gpu": "H100"}, "training.devices", 1),
        ({"devices": 4, "strategy": "ddp"}, {"gpu": "H100"}, "training.strategy", "auto"),
    ],
)
def test_settings_this_machine_cannot_run_are_changed(training: dict, hardware: dict, setting: str,
                                                      new: object) -> None:
    cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="d.jsonl"),
                    training=TrainingSettings(**training))
    fit = fit_to_hardware(cfg, simulated_hardware(**hardware))
    changes = {a.setting: a for a in fit.adjustments}
    assert changes[setting].new == new and changes[setting].reason


def test_fitting_config_is_unchanged() -> None:
    cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="d.jsonl"))
    fit = fit_to_hardware(cfg, simulated_hardware())
    assert fit.config == cfg and fit.adjustments == () and fit.notes == ()


def test_unknown_model_is_not_looked_up(tmp_path: Path) -> None:
    """A model folder named in a shared preset is never read while importing."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{ this would fail to parse if it were read")
    cfg = RunConfig(profile="chatbot", model=ModelChoice(str(folder)), data=DataSettings(path="d.jsonl"))
    file = tmp_path / "p.json"
    file.write_text(preset_json(Preset(name="local", config=cfg)))
    result = import_preset(file, hardware=simulated_hardware(gpu_memory_gb=8))
    assert result.adjustments == () and "not checked" in result.notes[0]
    assert get_preset("local").config == cfg


def test_cli_import_for_a_simulated_gpu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "p.json"
    file.write_text(preset_json(Preset(name="big", config=_preset_for_24gb())))
    assert main(["presets", "import", str(file), "--gpu-memory", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {a["setting"] for a in out["adjustments"]} >= {"training.quantization", "training.micro_batch_size"}
    assert main(["presets", "import", str(file), "--name", "big2", "--gpu-memory", "8"]) == 0
    text = capsys.readouterr().out
    assert "Adjusted for this machine" in text and "training.quantization: none -> 4bit" in text
