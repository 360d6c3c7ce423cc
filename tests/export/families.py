"""Tiny random-weight models of today's families, each with a tokenizer, for GGUF export tests.

Shapes are tiny but their rows are multiples of 256, so q4_k_m really stores Q4_K blocks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

#: Test Export's next-token limits for random-weight models: their scores are nearly flat, so quantizing
#: flips more of their choices than any trained model's (q4_k_m measured 78-93% on these families, against
#: 94.1% on the built-in SmolLM2 that set the real limits).
RANDOM_WEIGHTS_MIN_TOP1 = {"q4_k_m": 0.75, "q5_k_m": 0.8, "q6_k": 0.9}

#: family -> (transformers config class, model class, extra config)
FAMILIES = ("llama3", "qwen3", "gemma3", "phi3-longrope", "mistral", "smollm3")


def _tokenizer_files(folder: Path, tiny_folder: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (tiny_folder / name).is_file():
            shutil.copy2(tiny_folder / name, folder / name)


def _sentencepiece_tokenizer(folder: Path, corpus: str) -> Any:
    """A small sentencepiece (Llama-style) tokenizer trained on `corpus`, saved in `folder`."""
    import io

    import sentencepiece as spm
    from transformers import AutoTokenizer

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus.splitlines()), model_writer=model, vocab_size=400,
                                   model_type="bpe", byte_fallback=True, character_coverage=1.0,
                                   bos_id=1, eos_id=2, unk_id=0, pad_id=-1, split_digits=True,
                                   normalization_rule_name="identity", add_dummy_prefix=True,
                                   remove_extra_whitespaces=False, allow_whitespace_only_pieces=True)
    (folder / "tokenizer.model").write_bytes(model.getvalue())
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
        "legacy": False, "add_bos_token": True}), encoding="utf-8")
    tok = AutoTokenizer.from_pretrained(str(folder))
    tok.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
                         "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
    tok.save_pretrained(str(folder))
    return tok


def build_family(family: str, folder: Path, tiny_folder: Path) -> Path:
    """Build the tiny `family` model into `folder` (random weights, seeded)."""
    import torch
    import transformers as tf
    from transformers import AutoTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    if family == "phi3-longrope":
        from importlib import resources

        corpus = resources.files("peftstudio.models").joinpath("tiny_corpus.txt").read_text(encoding="utf-8")
        tok = _sentencepiece_tokenizer(folder, corpus)
    else:
        _tokenizer_files(folder, tiny_folder)
        tok = AutoTokenizer.from_pretrained(str(folder))
    common: dict[str, Any] = {
        "vocab_size": len(tok), "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 512,
        "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id,
    }
    torch.manual_seed(5)
    if family == "llama3":
        cfg: Any = tf.LlamaConfig(**common, rope_scaling={
            "rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 128})
        model: Any = tf.LlamaForCausalLM(cfg)
    elif family == "qwen3":
        model = tf.Qwen3ForCausalLM(tf.Qwen3Config(**common, head_dim=64, tie_word_embeddings=True))
    elif family == "gemma3":
        model = tf.Gemma3ForCausalLM(tf.Gemma3TextConfig(**common, head_dim=64, sliding_window=512,
                                                         query_pre_attn_scalar=64))
    elif family == "phi3-longrope":
        half = (256 // 4) // 2
        common["vocab_size"] = 512  # rows past the tokenizer's are padding, as in real Phi-3 files
        cfg = tf.Phi3Config(**common, original_max_position_embeddings=128, rope_scaling={
            "rope_type": "longrope", "short_factor": [1.0] * half, "long_factor": [1.5] * half,
            "original_max_position_embeddings": 128})
        model = tf.Phi3ForCausalLM(cfg)
    elif family == "mistral":
        model = tf.MistralForCausalLM(tf.MistralConfig(**common, sliding_window=None))
    elif family == "smollm3":
        model = tf.SmolLM3ForCausalLM(tf.SmolLM3Config(**common, tie_word_embeddings=True))
    else:
        raise ValueError(family)
    model.save_pretrained(str(folder))
    (folder / "peftstudio-family.json").write_text(json.dumps({"family": family}), encoding="utf-8")
    return folder
