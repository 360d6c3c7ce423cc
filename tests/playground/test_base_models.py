"""Base (non-chat) models in the playground and the quality checks: a tiny Llama without a chat template.

Asked as a chat turn, a base model gets the plain ``### User:`` layout it trains on; a run trained on plain
text continues the prompt as it is. Either way the tuned and base answers come side by side.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from peftstudio.data.template import generation_prompt
from peftstudio.playground import GenerationSettings, PlaygroundSession, profile_examples


@pytest.fixture(scope="module")
def base_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """builtin:tiny-llama with its chat template taken away: a base model."""
    from peftstudio.models import model_folder

    folder = tmp_path_factory.mktemp("base") / "tiny-base"
    shutil.copytree(model_folder("builtin:tiny-llama"), folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory, base_folder: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(str(base_folder)),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.5)
    folder = tmp_path_factory.mktemp("adapter") / "adapter"
    model.save_pretrained(str(folder))
    return folder


GREEDY = GenerationSettings(temperature=0.0, max_new_tokens=6)


def test_a_base_model_is_asked_in_the_layout_it_trains_on(base_folder: Path, adapter: Path) -> None:
    session = PlaygroundSession(str(base_folder), adapter, save_history=False)
    assert not session.tokenizer.chat_template and not session.completion
    ids = session._prompt_ids("What is for dinner?", GREEDY)["input_ids"][0].tolist()
    text = session.tokenizer.decode(ids)
    assert text == "### User:\nWhat is for dinner?\n\n### Assistant:\n"
    exchange = session.compare("What is for dinner?", GREEDY)
    assert exchange.tuned.model == "tuned" and exchange.base is not None and exchange.base.model == "base"
    assert exchange.tuned.tokens > 0 and exchange.base.tokens > 0


def test_plain_completion_continues_the_prompt_side_by_side(base_folder: Path, adapter: Path) -> None:
    session = PlaygroundSession(str(base_folder), adapter, profile="domain-adaptation", save_history=False)
    assert session.completion
    prompt = profile_examples("domain-adaptation", completion=True)[0]
    ids = session._prompt_ids(prompt, GenerationSettings(system_prompt="ignored in completion"))["input_ids"][0]
    assert session.tokenizer.decode(ids, skip_special_tokens=True) == prompt
    exchange = session.compare(prompt, GREEDY)
    assert exchange.base is not None and exchange.tuned.text != exchange.base.text  # the adapter matters


def test_completion_examples_are_beginnings_of_text() -> None:
    for prompt in profile_examples("chatbot", completion=True) + profile_examples("domain-adaptation"):
        assert not prompt.rstrip().endswith("?")
    assert generation_prompt(None, [{"role": "user", "content": "The sea"}], completion=True) == "The sea"


def test_the_quality_checks_answer_with_a_base_model(base_folder: Path, adapter: Path) -> None:
    from peftstudio.quality.run import answer

    session = PlaygroundSession(str(base_folder), adapter, save_history=False)
    batch = [[{"role": "user", "content": "What is the capital of France?"}], [{"role": "user", "content": "Hi"}]]
    tuned = answer(session, batch, use_adapter=True, max_new_tokens=4)
    base = answer(session, batch, use_adapter=False, max_new_tokens=4)
    assert len(tuned) == len(base) == 2 and tuned != base
