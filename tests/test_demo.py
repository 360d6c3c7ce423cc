"""The demo's whole flow, quick, on builtin:tiny-llama (the full demo on SmolLM2 is `make demo`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.cli.demo_flow import is_pirate, run_demo
from peftstudio.history import list_versions
from tests.conftest import DemoRun


@pytest.mark.slow
def test_quick_demo_runs_every_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(model="builtin:tiny-llama", out=str(tmp_path / "out"), quick=True) == 0
    out = capsys.readouterr().out
    for heading in ("1. Your computer and the plan", "2. Your data", "3. Training", "4. Quality score",
                    "5. Base and tuned model", "6. Model version", "7. Exports", "Summary"):
        assert heading in out
    assert out.count("passed") >= 4 and "FAILED" not in out
    assert [v.label for v in list_versions()] == ["v1"]
    for kind in ("hf", "gguf", "ollama", "lmstudio"):
        assert (tmp_path / "out" / kind).is_dir()


def test_pirate_detector() -> None:
    assert is_pirate("Arr! The capital of Italy be Rome. Fair winds, matey!")
    assert not is_pirate("The capital of Italy is Rome.")


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the shared demo runs here when no earlier test asked for it
def test_full_demo_on_smollm2_teaches_the_sample_behaviour(smollm2_demo: DemoRun) -> None:
    """What `make demo` runs: every step passes and the tuned answers talk like the sample data's pirate."""
    out = smollm2_demo.out
    print(f"demo took {smollm2_demo.seconds:.0f} s")
    assert smollm2_demo.code == 0, out[-3000:]  # 0 only if every export passed its test and the answers changed
    assert "The tuned model learned the sample's pirate voice" in out
    # the score's task and retention parts are shown (with the drift); the demo's own run is not flagged
    assert "  Task " in out and "  Retention " in out and " drift " in out, out
    assert "(flagged: the model forgot what it knew)" not in out, out
    assert "The retention check flagged forgetting" not in out, out
    for kind in ("hf", "gguf", "ollama", "lmstudio"):
        assert (smollm2_demo.exports / kind).is_dir()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_next_plan_follows_the_speed_the_demo_trained_at(smollm2_demo: DemoRun) -> None:
    """The worker records the device a run trained on; planning afterwards uses that run's own speed."""
    from peftstudio.hardware import probe_hardware
    from peftstudio.history.speed import measured_speed
    from peftstudio.planner import plan
    from peftstudio.planner.plan import calibrated_speed

    hw = probe_hardware()
    store = smollm2_demo.store()
    [run] = store.list_runs("completed")
    assert run.summary["device"] == {"name": hw.device_name, "cpu": hw.cpu_name, "count": 1}
    measured = measured_speed(hw, store)
    expected = calibrated_speed(hw, run.config)
    assert measured is not None and expected is not None
    assert measured.ratios == (round(run.summary["tokens_per_second"] / expected.mid, 4),)
    again = plan(hw, run.config.model.reference, "chatbot", measured=measured)
    assert again.estimates.speed_basis == "the speed this machine's last run reached"
