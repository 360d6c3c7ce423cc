"""End-to-end exports of the tiny built-in model, each checked by Test Export with independent loaders."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import gguf
import numpy as np
import pytest

from peftstudio.errors import PlainError
from peftstudio.export import (
    CardInfo,
    ExportProgress,
    ExportResult,
    ExportSource,
    GenerationDefaults,
    export,
    export_gguf,
    export_hf,
    export_lmstudio,
    export_ollama,
    verify_export,
)
from peftstudio.export.ollama import hf_renderer, parse_modelfile
from peftstudio.export.template import SAMPLE_CONVERSATIONS, ollama_messages, render_go
from peftstudio.records.convert import from_dict, to_dict
from tests.export.families import RANDOM_WEIGHTS_MIN_TOP1

pytestmark = pytest.mark.slow


def _field(reader: gguf.GGUFReader, key: str) -> object:
    return reader.fields[key].contents()


def _llama_cpp_checks_passed(result: ExportResult) -> None:
    assert result.test is not None
    names = {c.name: c for c in result.test.checks}
    assert names["llama.cpp tokenizer: same token ids"].passed
    assert any(n.startswith("llama.cpp:") and c.passed for n, c in names.items())
    assert any(n.startswith("transformers GGUF loader:") and c.passed for n, c in names.items())
    assert result.test.passed, result.test.message
    assert result.test.tokenizer_agreement == 1.0
    assert result.test.sample  # a short answer was generated through the chat template


@pytest.mark.parametrize("quant", ["f32", "f16", "q8_0", "q4_k_m"])
def test_gguf_export_passes_test_export(tmp_path: Path, tiny: ExportSource, tiny_folder: Path, quant: str) -> None:
    result = export("gguf", tiny, tmp_path / "out", quant=quant)
    result = attrs.evolve(result, test=verify_export(result, min_top1=RANDOM_WEIGHTS_MIN_TOP1))
    _llama_cpp_checks_passed(result)
    assert result.model_file == f"tiny-llama-{quant.upper()}.gguf"
    assert result.test is not None and result.test.max_abs_logit_diff is not None
    if quant in ("f32", "f16"):
        assert result.test.max_abs_logit_diff < {"f32": 2e-3, "f16": 1e-2}[quant]
    config = json.loads((tiny_folder / "config.json").read_text())
    reader = gguf.GGUFReader(str(Path(result.path) / result.model_file))
    assert _field(reader, "general.architecture") == "llama"
    assert _field(reader, "llama.context_length") == config["max_position_embeddings"]
    assert _field(reader, "llama.attention.head_count") == config["num_attention_heads"]
    assert _field(reader, "llama.attention.head_count_kv") == config["num_key_value_heads"]
    assert _field(reader, "llama.rope.freq_base") == pytest.approx(config["rope_parameters"]["rope_theta"])
    assert _field(reader, "llama.attention.layer_norm_rms_epsilon") == pytest.approx(config["rms_norm_eps"])
    assert _field(reader, "tokenizer.ggml.pre") == "gpt-2"
    assert "<|im_start|>" in str(_field(reader, "tokenizer.chat_template"))
    types = {t.name: t.tensor_type.name for t in reader.tensors}
    assert types["output_norm.weight"] == "F32"
    if quant != "q4_k_m":  # tiny-llama's 192-wide rows fall back to other types; tests/export/test_families checks Q4_K
        assert types["blk.0.attn_q.weight"] == quant.upper()


def test_gguf_single_file_export(tmp_path: Path, tiny: ExportSource) -> None:
    result = export_gguf(tiny, tmp_path / "model.gguf", quant="f16")
    assert (tmp_path / "model.gguf").is_file() and result.model_file == "model.gguf"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gguf"]
    assert verify_export(result).passed


def test_hf_merged_export_carries_the_adapter(tmp_path: Path, tiny: ExportSource, adapter_dir: Path,
                                              tiny_folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    source = ExportSource("builtin:tiny-llama", adapter=str(adapter_dir), name="tiny-tuned")
    info = CardInfo(license="apache-2.0", datasets=("chat.jsonl",), profile="chatbot",
                    training={"rank": "4"}, metrics={"eval_loss": 1.25}, quality_score=71.0)
    result = export_hf(source, tmp_path / "hf", card_info=info, generation=GenerationDefaults(0.3, 0.8, 99))
    for name in ("model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
                 "tokenizer_config.json", "README.md"):
        assert name in result.files
    card = (tmp_path / "hf" / "README.md").read_text()
    assert card.startswith("---\nbase_model: builtin:tiny-llama\nlicense: apache-2.0")
    assert "eval_loss" in card and "| quality score | 71 |" in card and "chat.jsonl" in card
    gen = json.loads((tmp_path / "hf" / "generation_config.json").read_text())
    assert gen["temperature"] == 0.3 and gen["top_p"] == 0.8 and gen["max_new_tokens"] == 99
    tested = verify_export(result)
    assert tested.passed, tested.message
    assert tested.max_abs_logit_diff is not None and tested.max_abs_logit_diff < 1e-4
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        base = AutoModelForCausalLM.from_pretrained(str(tiny_folder))(ids).logits
        tuned = AutoModelForCausalLM.from_pretrained(str(tmp_path / "hf"))(ids).logits
    assert (base - tuned).abs().max() > 1e-2  # the adapter is in the exported weights


def test_hf_adapter_only_export(tmp_path: Path, adapter_dir: Path) -> None:
    source = ExportSource("builtin:tiny-llama", adapter=str(adapter_dir))
    result = export_hf(source, tmp_path / "hf", merged=False)
    assert "adapter_model.safetensors" in result.files and "model.safetensors" not in result.files
    assert "library_name: peft" in (tmp_path / "hf" / "README.md").read_text()
    assert verify_export(result).passed


def test_gguf_of_a_tuned_model_matches_the_merged_model(tmp_path: Path, adapter_dir: Path) -> None:
    tuned = ExportSource("builtin:tiny-llama", adapter=str(adapter_dir))
    result = export_gguf(tuned, tmp_path / "g", quant="f16")
    assert verify_export(result).passed
    wrong = verify_export(result, ExportSource("builtin:tiny-llama"))  # the base without the adapter
    assert not wrong.passed and "logit" in wrong.message


def test_ollama_export(tmp_path: Path, tiny: ExportSource) -> None:
    gen = GenerationDefaults(temperature=0.3, top_p=0.8, max_tokens=99)
    result = export_ollama(ExportSource("builtin:tiny-llama", name="Tiny Bot"), tmp_path / "ollama", quant="q8_0",
                           generation=gen)
    assert result.files == ("Modelfile", "README.md", "Tiny-Bot-Q8_0.gguf")
    assert "ollama create tiny-bot -f Modelfile" in result.instructions and "ollama run tiny-bot" in result.instructions
    parts = parse_modelfile((tmp_path / "ollama" / "Modelfile").read_text())
    assert parts["from"] == "./Tiny-Bot-Q8_0.gguf"
    assert parts["stop"][0] == "<|im_end|>" and "<|im_start|>" in parts["stop"]
    assert (parts["temperature"], parts["top_p"], parts["num_predict"]) == (0.3, 0.8, 99)
    from transformers import AutoTokenizer

    from peftstudio.models import model_folder

    render = hf_renderer(AutoTokenizer.from_pretrained(str(model_folder("builtin:tiny-llama"))))
    for conversation in SAMPLE_CONVERSATIONS:
        assert render_go(parts["template"], ollama_messages(conversation, parts.get("system"))) == \
            render(list(conversation), True)
    tested = verify_export(result)
    _llama_cpp_checks_passed(_with_test(result, tested))
    assert any(c.name == "Modelfile template" and c.passed for c in tested.checks)


def _with_test(result: ExportResult, tested: object) -> ExportResult:
    import attrs

    return attrs.evolve(result, test=tested)


def test_lmstudio_export(tmp_path: Path, tiny: ExportSource) -> None:
    result = export_lmstudio(tiny, tmp_path / "lms", publisher="me")
    assert result.model_file == "me/tiny-llama/tiny-llama-Q4_K_M.gguf"
    assert (tmp_path / "lms" / "me" / "tiny-llama" / "tiny-llama-Q4_K_M.gguf").is_file()
    assert "lms import" in result.instructions and "~/.lmstudio/models/me/tiny-llama/" in result.instructions
    tested = verify_export(result)
    _llama_cpp_checks_passed(_with_test(result, tested))
    assert any(c.name == "LM Studio layout" and c.passed for c in tested.checks)


@pytest.mark.parametrize("cut", ["half", "header"])
def test_damaged_gguf_fails_test_export_plainly(tmp_path: Path, tiny: ExportSource, cut: str) -> None:
    result = export_gguf(tiny, tmp_path / "g", quant="f16")
    path = Path(result.path) / str(result.model_file)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if cut == "half" else b"GGUF" + b"\x00" * 7 + data[60:200])
    tested = verify_export(result)
    assert tested.passed is False
    assert ("incomplete" in tested.message or "damaged" in tested.message) and "Traceback" not in tested.message
    assert tested.checks and not tested.checks[0].passed


def _raise_at(n: int):  # type: ignore[no-untyped-def]
    def progress(p: ExportProgress) -> None:
        if (p.stage == "writing" and p.done >= n) or p.stage == "quantizing":
            raise KeyboardInterrupt("cancelled")  # what a user's Cancel does mid-write

    return progress


@pytest.mark.parametrize("kind,out_name", [("gguf", "g"), ("gguf", "m.gguf"), ("ollama", "o"), ("lmstudio", "l")])
def test_failed_export_leaves_nothing(tmp_path: Path, tiny: ExportSource, kind: str, out_name: str) -> None:
    parent = tmp_path / "exports"
    parent.mkdir()
    with pytest.raises(KeyboardInterrupt):
        export(kind, tiny, parent / out_name, progress=_raise_at(5))
    assert list(parent.iterdir()) == []


def test_failed_hf_export_leaves_nothing(tmp_path: Path, tiny: ExportSource) -> None:
    def progress(p: ExportProgress) -> None:
        if p.stage == "tokenizer":
            raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt):
        export_hf(tiny, tmp_path / "hf", progress=progress)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["hf", "gguf", "ollama", "lmstudio"])
def test_disk_space_is_checked_before_writing(tmp_path: Path, tiny: ExportSource, kind: str) -> None:
    with pytest.raises(PlainError) as err:
        export(kind, tiny, tmp_path / "out", disk_free_bytes=1000)
    assert err.value.code == "disk_full" and "1000 bytes" in err.value.info.explanation
    # nothing of the export was written (the PEFT Studio home, which the fixture puts here, is not the export)
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == []


@pytest.mark.parametrize("kind", ["gguf", "ollama", "lmstudio"])
def test_unsupported_architecture_is_a_plain_error(tmp_path: Path, gpt2_folder: Path, kind: str) -> None:
    import shutil

    odd = tmp_path / "odd"  # GPT-2 itself llama.cpp converts; an architecture it does not know
    shutil.copytree(gpt2_folder, odd)
    config = json.loads((odd / "config.json").read_text())
    config["architectures"] = ["PeftStudioOddLMHeadModel"]
    (odd / "config.json").write_text(json.dumps(config))
    with pytest.raises(PlainError) as err:
        export(kind, ExportSource(str(odd)), tmp_path / "out")
    assert err.value.code == "export_unsupported_architecture"
    assert "PeftStudioOddLMHeadModel" in err.value.info.explanation and "LlamaForCausalLM" in err.value.info.explanation
    assert not (tmp_path / "out").exists()


def test_existing_folder_is_not_overwritten_unless_asked(tmp_path: Path, tiny: ExportSource) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(PlainError) as err:
        export_gguf(tiny, out, quant="q8_0")
    assert err.value.code == "config_invalid" and (out / "keep.txt").exists()
    result = export_gguf(tiny, out, quant="q8_0", overwrite=True)
    assert result.files == ("README.md", "tiny-llama-Q8_0.gguf")


def test_dispatch_refuses_unknown_kinds_and_options(tmp_path: Path, tiny: ExportSource) -> None:
    with pytest.raises(PlainError, match="expected one of hf, gguf, ollama, lmstudio"):
        export("onnx", tiny, tmp_path / "x")
    with pytest.raises(PlainError, match="publisher: not an option of the gguf export"):
        export("gguf", tiny, tmp_path / "x", publisher="me")
    with pytest.raises(PlainError, match="quant: expected one of q4_k_m, q5_k_m, q6_k, q8_0, f16, bf16, f32"):
        export("gguf", tiny, tmp_path / "x", quant="q4_k")


def test_progress_is_reported_and_result_round_trips_as_json(tmp_path: Path, tiny: ExportSource) -> None:
    seen: list[ExportProgress] = []
    result = export("gguf", "builtin:tiny-llama", tmp_path / "g", quant="q8_0", test=True, progress=seen.append)
    writing = [p for p in seen if p.stage == "writing"]
    assert writing and writing[-1].done == writing[-1].total and [p.done for p in writing] == sorted(
        p.done for p in writing)
    assert any(p.stage == "testing" for p in seen)
    data = json.loads(json.dumps(to_dict(result)))
    assert data["test"]["passed"] is True and data["test"]["checks"]
    assert from_dict(ExportResult, data) == result


def test_loaders_can_be_chosen(tmp_path: Path, tiny: ExportSource) -> None:
    result = export_gguf(tiny, tmp_path / "g", quant="q8_0")
    only_cpp = verify_export(result, loaders=("llama.cpp",))
    assert only_cpp.passed and not any("transformers" in c.name for c in only_cpp.checks)
    with pytest.raises(PlainError, match="loaders: expected some of llama.cpp, transformers"):
        verify_export(result, loaders=("onnx",))


def test_agreement_counts_near_ties() -> None:
    from peftstudio.export.verify import agreement

    ref = np.array([[3.0, 2.999, 0.0], [0.0, 1.0, 5.0]])
    got = np.array([[2.0, 2.5, 0.0], [0.0, 6.0, 5.0]])
    assert agreement(got, ref).tolist() == [False, False]
    assert agreement(got, ref, tie=0.01).tolist() == [True, False]
