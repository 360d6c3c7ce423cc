"""Small pure pieces: records, the model card, the Modelfile text, disk-space arithmetic."""

from __future__ import annotations

import pytest

from peftstudio.export import CardInfo, ExportSource, GenerationDefaults
from peftstudio.export.card import model_card
from peftstudio.export.gguf.exporter import gguf_file_name, slug
from peftstudio.export.ollama import OllamaTemplate, modelfile_text, parse_modelfile
from peftstudio.export.source import human_bytes, shortfall
from peftstudio.export.template import ChatLayout, RoleBlock

CHATML = ChatLayout("", RoleBlock("<|im_start|>system\n", "<|im_end|>\n"), RoleBlock("<|im_start|>user\n", "<|im_end|>\n"),
                    RoleBlock("<|im_start|>assistant\n", "<|im_end|>\n"), "<|im_start|>assistant\n", "Be kind.")


def test_generation_defaults_read_the_playground_settings() -> None:
    from peftstudio.playground.session import GenerationSettings

    got = GenerationDefaults.from_settings(GenerationSettings(temperature=0.2, top_p=0.5, max_new_tokens=77))
    assert got == GenerationDefaults(temperature=0.2, top_p=0.5, max_tokens=77)
    assert GenerationDefaults.from_settings({"temperature": 1.0, "max_tokens": 5}).max_tokens == 5
    assert GenerationDefaults.from_settings(None) == GenerationDefaults()


@pytest.mark.parametrize(
    "source,name",
    [(ExportSource("builtin:smollm2-135m"), "smollm2-135m"), (ExportSource("/models/My Model/"), "My Model"),
     (ExportSource("builtin:tiny-llama", adapter="/runs/r1/adapter"), "tiny-llama-tuned"),
     (ExportSource("builtin:tiny-llama", name="bot"), "bot")],
)
def test_display_names(source: ExportSource, name: str) -> None:
    assert source.display_name == name


def test_file_names_are_safe() -> None:
    assert slug("My Model (v2)!") == "My-Model-v2" and slug("///") == "model"
    assert gguf_file_name("smollm2-135m", "q8_0") == "smollm2-135m-Q8_0.gguf"


def test_model_card_front_matter_and_sections() -> None:
    info = CardInfo(license="apache-2.0", datasets=("support-chats.jsonl",), profile="chatbot",
                    training={"learning rate": "0.0002", "epochs": "3"}, metrics={"eval_loss": 1.234567},
                    quality_score=82.5, intended_use="Answering questions about our product.")
    card = model_card("helper", "HuggingFaceTB/SmolLM2-135M-Instruct", info, merged=True)
    front, body = card.split("---\n")[1], card.split("---\n", 2)[2]
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in front and "license: apache-2.0" in front
    assert '  - "support-chats.jsonl"' in front and "library_name: transformers" in front
    assert "*chatbot* task" in body and "| learning rate | 0.0002 |" in body and "| eval_loss | 1.235 |" in body
    assert "| quality score | 82.5 |" in body and "Answering questions about our product." in body
    adapter_card = model_card("helper", "base/model", CardInfo(), merged=False)
    assert "library_name: peft" in adapter_card and "PeftModel.from_pretrained" in adapter_card


def test_modelfile_text_round_trips() -> None:
    text = modelfile_text("m-Q8_0.gguf", OllamaTemplate.of(CHATML, ("<|im_end|>", "<|im_start|>")),
                          GenerationDefaults(temperature=0.25, top_p=0.75, max_tokens=64, repeat_penalty=1.1))
    parts = parse_modelfile(text)
    assert parts["from"] == "./m-Q8_0.gguf" and parts["system"] == "Be kind."
    assert parts["template"].startswith("{{ range .Messages }}")
    assert parts["stop"] == ["<|im_end|>", "<|im_start|>"]
    assert (parts["temperature"], parts["top_p"], parts["num_predict"], parts["repeat_penalty"]) == (
        0.25, 0.75, 64, 1.1)


@pytest.mark.parametrize("needed,free,missing", [(100, 1000, 0), (1000, 1000, 100), (0, 0, 0), (10, 0, 11)])
def test_shortfall_keeps_a_margin(needed: int, free: int, missing: int) -> None:
    assert shortfall(needed=needed, free=free) == missing


@pytest.mark.parametrize("n,text", [(0, "0 bytes"), (1023, "1023 bytes"), (1536, "1.5 KB"), (5 * 1024**3, "5.0 GB")])
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text
