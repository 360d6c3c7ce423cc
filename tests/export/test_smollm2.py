"""SmolLM2 (the real built-in chat model): llama.cpp tokenizes like Hugging Face, and Ollama's template matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.export import ExportSource, export_ollama
from peftstudio.export.ollama import hf_renderer, parse_modelfile
from peftstudio.export.template import SAMPLE_CONVERSATIONS, ollama_messages, render_go
from peftstudio.export.verify import TOKENIZER_TEXTS

pytestmark = pytest.mark.slow

EXTRA_TEXTS = (
    "import numpy as np\nx = np.arange(10) ** 2  # squares\nprint(f\"{x.sum():,}\")",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "😀😃😄😁😆 🇫🇷🇩🇪 👨‍👩‍👧‍👦 ❤️‍🔥",
    "Português: ação, coração. Polski: zażółć gęślą jaźń. Türkçe: İstanbul, ığdır.",
    "हिन्दी में एक वाक्य। বাংলা বাক্য। ภาษาไทย ทดสอบ",
    "Numbers 3.14159, 1,000,000 and 2024-01-31T12:00:00Z",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
)


@pytest.fixture(scope="module")
def smollm2_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("smollm2") / "ollama"
    export_ollama(ExportSource("builtin:smollm2-135m", name="smollm2-tuned"), out, quant="q8_0")
    return out


@pytest.fixture(scope="module")
def hf_tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    from peftstudio.models import model_folder

    return AutoTokenizer.from_pretrained(str(model_folder("builtin:smollm2-135m")))


def test_llama_cpp_tokenizes_like_the_hf_tokenizer(smollm2_export: Path, hf_tokenizer) -> None:  # type: ignore[no-untyped-def]
    from llama_cpp import Llama

    gguf_file = next(smollm2_export.glob("*.gguf"))
    llm = Llama(model_path=str(gguf_file), vocab_only=True, verbose=False)
    try:
        for text in TOKENIZER_TEXTS + EXTRA_TEXTS:
            ours = hf_tokenizer(text, add_special_tokens=False)["input_ids"]
            theirs = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            assert theirs == ours, text
            assert llm.detokenize(theirs, special=True).decode("utf-8") == text
    finally:
        llm.close()


def test_modelfile_template_renders_like_the_chat_template(smollm2_export: Path, hf_tokenizer) -> None:  # type: ignore[no-untyped-def]
    parts = parse_modelfile((smollm2_export / "Modelfile").read_text(encoding="utf-8"))
    assert parts["system"] == "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    assert parts["stop"][0] == "<|im_end|>"
    render = hf_renderer(hf_tokenizer)
    for conversation in SAMPLE_CONVERSATIONS:
        expected = render(list(conversation), True)
        assert render_go(parts["template"], ollama_messages(conversation, parts["system"])) == expected


@pytest.mark.parametrize("quant", ["q4_k_m", "f16"])
def test_smollm2_gguf_passes_test_export(tmp_path: Path, quant: str) -> None:
    """The built-in SmolLM2 at the default q4_k_m (and at f16) passes Test Export in llama.cpp with the limits
    docs/export.md gives (set from this model's measured figures)."""
    from peftstudio.export import export_gguf, verify_export
    from peftstudio.export.verify import MIN_TOP1

    result = export_gguf(ExportSource("builtin:smollm2-135m"), tmp_path / "gguf", quant=quant)
    tested = verify_export(result, loaders=("llama.cpp",))
    assert tested.passed, tested.message
    assert tested.tokenizer_agreement == 1.0
    if quant in MIN_TOP1:
        assert tested.top1_agreement is not None and tested.top1_agreement >= MIN_TOP1[quant]
    assert tested.sample  # the export talks


def test_tuned_smollm2_exports_every_kind_at_q4_k_m_and_q8_0_and_as_an_adapter(tmp_path: Path) -> None:
    """The export issue's whole check: a SmolLM2 run tuned on the sample data, then every export kind at both
    common quantizations, and the adapter alone, each with its Test Export."""
    from peftstudio.data import sample_path
    from peftstudio.engine.runs import start_run
    from peftstudio.export import export
    from peftstudio.playground import resolve_tuned
    from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings
    from peftstudio.store import open_store

    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:smollm2-135m"),
                       data=DataSettings(str(sample_path("pirate_chat.jsonl"))), lora=LoraSettings(rank=8, alpha=16),
                       training=TrainingSettings(max_steps=4, learning_rate=2e-3, micro_batch_size=2,
                                                 sequence_length=128, eval_every_steps=100,
                                                 checkpoint_every_steps=100))
    store = open_store()
    run_id = start_run(config, store, detach=False)
    assert store.get_run(run_id).status == "completed"
    tuned = resolve_tuned(run_id, store=store)
    source = ExportSource(tuned.base_reference, str(tuned.adapter_dir), name="pirate-smollm2")
    verdicts = {}
    verdicts["hf"] = export("hf", source, tmp_path / "hf", test=True).test
    for kind in ("gguf", "ollama", "lmstudio"):
        for quant in ("q4_k_m", "q8_0"):
            verdicts[f"{kind}-{quant}"] = export(kind, source, tmp_path / f"{kind}-{quant}", test=True,
                                                 quant=quant).test
    adapter = export("gguf", source, tmp_path / "adapter", test=True, adapter_only=True)
    verdicts["adapter"] = adapter.test
    assert adapter.size_bytes < 20 * 2**20  # megabytes, not the model's hundreds
    failed = {name: (t.message if t else "no test") for name, t in verdicts.items() if not (t and t.passed)}
    assert not failed, failed
