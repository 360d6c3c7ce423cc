"""A profile configures the model too (requirement 3.2): the best model that fits this machine, with its reason."""

from __future__ import annotations

import argparse
import json

import pytest

from peftstudio.cli.main import main
from peftstudio.data import sample_path
from peftstudio.hardware import simulated_hardware
from peftstudio.models.catalog import find_model
from peftstudio.planner import PROFILES, get_profile, pick_model, plan
from peftstudio.planner.choose import FALLBACK


@pytest.mark.parametrize("profile", [p.id for p in PROFILES])
@pytest.mark.parametrize("gpu", ["RTX 3060", "RTX 4090", "H100", None])
def test_the_pick_is_the_largest_candidate_that_fits_and_trains_within_the_budget(profile: str,
                                                                                   gpu: str | None) -> None:
    hw = simulated_hardware(gpu, cpu_cores=2, ram_gb=24)
    pick = pick_model(hw, profile)
    candidates = [*get_profile(profile).suggested_models, FALLBACK]
    assert pick.reference in candidates and pick.plan.memory.fits and pick.reason
    plans = {ref: plan(hw, ref, profile) for ref in candidates}
    good = [ref for ref, p in plans.items() if p.memory.fits and p.estimates.duration_seconds.max <= 4 * 3600]
    if good:
        assert pick.reference == max(good, key=lambda r: find_model(r).parameters)
        assert "the largest model suited to" in pick.reason
    assert pick.plan.model_title in pick.reason and pick.plan.device_name in pick.reason


def test_a_bigger_gpu_picks_a_bigger_model_and_the_processor_a_small_one() -> None:
    small = pick_model(simulated_hardware(cpu_cores=2, ram_gb=24), "chatbot")
    big = pick_model(simulated_hardware("H100"), "chatbot")
    assert find_model(big.reference).parameters > 10 * find_model(small.reference).parameters


def test_a_shorter_time_budget_gives_the_quickest_model_that_fits_and_says_so() -> None:
    pick = pick_model(simulated_hardware(cpu_cores=2, ram_gb=24), "code-generation", time_budget_seconds=60)
    assert pick.reference == FALLBACK and "the quickest model suited to code generation" in pick.reason


def test_no_model_fits_falls_back_to_the_built_in_with_the_reason() -> None:
    pick = pick_model(simulated_hardware(cpu_cores=2, ram_gb=0.5), "chatbot")
    assert pick.reference == FALLBACK and "fits in the memory" in pick.reason


def test_plan_without_model_uses_the_pick_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--profile", "chatbot", "--gpu", "RTX 3060", "--json"]) == 0
    captured = capsys.readouterr()
    expected = pick_model(simulated_hardware("RTX 3060"), "chatbot")
    assert json.loads(captured.out)["model"] == expected.reference
    assert f"Model: {expected.reference} (no --model given)" in captured.err and "fits" in captured.err


def test_train_without_model_trains_the_profiles_pick(capsys: pytest.CaptureFixture[str]) -> None:
    from peftstudio.cli.train import build_config
    from peftstudio.data.planning import pick_model_for
    from peftstudio.hardware import probe_hardware

    data = str(sample_path("pirate_chat.jsonl"))
    args = argparse.Namespace(config=None, profile="classification", model=None, data=data, max_steps=None,
                              overrides=[], devices=None, strategy=None, name="")
    config = build_config(args)
    pick, stats = pick_model_for(probe_hardware(), "classification", data)
    assert config.model.reference == pick.reference and stats is not None
    assert "no --model given" in capsys.readouterr().err


def test_profiles_show_the_pick_its_reason_memory_and_fit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "--gpu", "RTX 3060"]) == 0
    out = capsys.readouterr().out
    assert out.count("why this model:") == len(PROFILES) and "memory: about" in out and " fits" in out
