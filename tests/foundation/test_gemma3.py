"""builtin:gemma3-270m, the second real built-in model (Gemma 3 270M base, from its PyPI chunk packages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.models.catalog import find_model

pytestmark = pytest.mark.slow


def test_the_catalog_entry_has_the_shape_of_the_converted_model() -> None:
    import json

    from peftstudio.models import model_folder

    config = json.loads((model_folder("builtin:gemma3-270m") / "config.json").read_text(encoding="utf-8"))
    spec = find_model("builtin:gemma3-270m")
    assert (spec.layers, spec.hidden_size, spec.intermediate_size, spec.heads, spec.kv_heads, spec.head_dim,
            spec.vocab_size, spec.tie_embeddings) == (
        config["num_hidden_layers"], config["hidden_size"], config["intermediate_size"],
        config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"], config["vocab_size"],
        config["tie_word_embeddings"])


def test_gemma_turns_render_and_the_generation_prompt_opens_the_models_turn() -> None:
    from peftstudio.models import load_tokenizer

    tok = load_tokenizer("builtin:gemma3-270m")
    text = tok.apply_chat_template([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi\t "},
                                    {"role": "assistant", "content": "Hello!"}], tokenize=False)
    assert text == ("<bos><start_of_turn>user\nBe brief.\n\nHi\t <end_of_turn>\n<start_of_turn>model\nHello!"
                    "<end_of_turn>\n")
    prompt = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<start_of_turn>model\n")


@pytest.mark.timeout(1800)  # a real 270M model trained, chatted with and exported twice: about 7 min on 2 cores
def test_gemma3_trains_20_steps_answers_base_and_tuned_and_exports_q4_k_m(tmp_path: Path) -> None:
    from peftstudio.data import sample_path
    from peftstudio.engine.runs import start_run
    from peftstudio.export import ExportSource, export
    from peftstudio.playground import GenerationSettings, open_playground, resolve_tuned
    from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings
    from peftstudio.store import open_store

    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:gemma3-270m"),
                       data=DataSettings(str(sample_path("pirate_chat.jsonl"))), lora=LoraSettings(rank=8, alpha=16),
                       training=TrainingSettings(max_steps=20, learning_rate=2e-3, micro_batch_size=2,
                                                 sequence_length=128, eval_every_steps=10,
                                                 checkpoint_every_steps=10))
    store = open_store()
    run_id = start_run(config, store, detach=False)
    run = store.get_run(run_id)
    assert run.status == "completed", run.error
    losses = [m["value"] for m in store.metrics(run_id, "loss")]
    assert len(losses) == 20 and sum(losses[-5:]) / 5 < sum(losses[:5]) / 5  # it learns
    session = open_playground(run_id)
    answer = session.compare("Where is the treasure?", GenerationSettings(temperature=0, max_new_tokens=24))
    assert answer.base is not None and answer.tuned is not None
    assert answer.base.text.strip() and answer.tuned.text.strip() and answer.base.text != answer.tuned.text
    del session
    tuned = resolve_tuned(run_id, store=store)
    source = ExportSource(tuned.base_reference, str(tuned.adapter_dir), name="gemma3-pirate")
    # q4_k_m: the Ollama package of the q4_k_m base GGUF with the adapter on top
    packaged = export("ollama", source, tmp_path / "ollama", test=True, quant="q4_k_m", adapter_only=True)
    assert packaged.test is not None and packaged.test.passed, packaged.test
    assert packaged.model_file and "Q4_K_M" in packaged.model_file
    # merged: the weights came from a q4_k_m file, so the default type is q8_0, and says why
    merged = export("gguf", source, tmp_path / "gguf", test=True)
    assert merged.quant == "q8_0" and "q4_k_m file" in merged.notes[0]
    assert merged.test is not None and merged.test.passed, merged.test
