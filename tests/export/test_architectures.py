"""Each architecture the GGUF writer claims (Llama with tied embeddings, Mistral, Qwen2) loads in llama.cpp
with the source's logits."""

from __future__ import annotations

import shutil
from pathlib import Path

import gguf
import pytest

from peftstudio.export import ExportSource, export_gguf, verify_export

pytestmark = pytest.mark.slow


def _build(kind: str, folder: Path, tiny_folder: Path) -> Path:
    import torch
    from transformers import (
        AutoTokenizer,
        LlamaConfig,
        LlamaForCausalLM,
        MistralConfig,
        MistralForCausalLM,
        Qwen2Config,
        Qwen2ForCausalLM,
    )

    tok = AutoTokenizer.from_pretrained(str(tiny_folder))
    common = {"vocab_size": len(tok), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                  "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 512,
                  "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id}
    torch.manual_seed(3)
    if kind == "llama-tied":
        model = LlamaForCausalLM(LlamaConfig(**common, tie_word_embeddings=True, rope_theta=50000.0))
    elif kind == "mistral":
        model = MistralForCausalLM(MistralConfig(**common, sliding_window=None))
    else:
        model = Qwen2ForCausalLM(Qwen2Config(**common, tie_word_embeddings=True, use_sliding_window=False))
        with torch.no_grad():  # Qwen2 has q/k/v biases; make them non-zero so a lost bias would show
            for layer in model.model.layers:
                for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                    proj.bias.normal_(0, 0.5)
    model.save_pretrained(str(folder))
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (tiny_folder / name).is_file():
            shutil.copy2(tiny_folder / name, folder / name)
    return folder


QWEN2_TOKENIZER = pytest.mark.xfail(
    strict=True, reason="llama.cpp 0.3.36 pre-tokenizes this tiny byte-level tokenizer differently under the qwen2 "
    "architecture (digits and runs of spaces; 8 of 11 texts agree): open, see the closing note of 2026-12-05")


@pytest.mark.parametrize("kind,arch", [("llama-tied", "llama"), ("mistral", "llama"),
                                       pytest.param("qwen2", "qwen2", marks=QWEN2_TOKENIZER)])
def test_architecture_round_trip(tmp_path: Path, tiny_folder: Path, kind: str, arch: str) -> None:
    folder = _build(kind, tmp_path / f"tiny-{kind}", tiny_folder)
    result = export_gguf(ExportSource(str(folder)), tmp_path / "out", quant="f32")
    reader = gguf.GGUFReader(str(Path(result.path) / str(result.model_file)))
    assert reader.fields["general.architecture"].contents() == arch
    names = {t.name for t in reader.tensors}
    assert ("output.weight" in names) == (kind == "mistral")  # tied models reuse token_embd
    assert ("blk.0.attn_q.bias" in names) == (kind == "qwen2")
    tested = verify_export(result)
    assert tested.passed, tested.message
    assert any(c.name.startswith("llama.cpp:") and c.passed for c in tested.checks)
