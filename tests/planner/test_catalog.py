"""The model catalog: names, figures, and reading config.json files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peftstudio.errors import PlainError
from peftstudio.models.catalog import MODEL_CATALOG, catalog_names, find_model, lookup, spec_from_config

# Published parameter counts (model cards / config-derived totals), in millions.
PUBLISHED = {
    "smollm2-135m": 134.5, "smollm2-360m": 361.8, "smollm2-1.7b": 1711.4, "qwen2.5-0.5b": 494.0,
    "qwen2.5-1.5b": 1543.7, "qwen2.5-7b": 7615.6, "llama-3.2-1b": 1235.8, "llama-3.2-3b": 3212.7,
    "llama-3.1-8b": 8030.3, "mistral-7b": 7248.0, "gemma-2-2b": 2614.3, "phi-3.5-mini": 3821.1,
    # The current catalog: model cards (Qwen3 also gives the non-embedding counts, checked below).
    "gemma3-270m": 268.1, "gemma3-1b": 999.9, "qwen3-0.6b": 596.0, "qwen3-1.7b": 1720.6, "qwen3-4b": 4022.5,
    "qwen3-8b": 8190.7, "smollm3-3b": 3075.1, "phi-4-mini": 3836.0, "gpt-oss-20b": 20914.8,
    # Gemma 3 technical report, table 1: 675M embedding + 3,209M non-embedding (the 417M vision encoder aside).
    "gemma3-4b": 675 + 3209,
    # Multimodal checkpoints, of which the catalog describes the language model: the checkpoint's published
    # total, less the parts outside the language model as transformers 5.25 builds them from the published
    # configs (on the meta device). Qwen3.5: the checkpoint index's total_size (bf16 bytes) / 2, less the
    # vision tower and the multi-token-prediction layer; another project's catalog lists the text models as
    # 0.75, 1.88, 4.21 and 8.95 billion. Gemma 4: the model card's and KerasHub's totals (5.1B and 7.9B "with
    # embeddings"), less the vision (167.4M) and audio (304.8M) towers and their projections.
    "qwen3.5-0.8b": 1_746_882_752 / 2e6 - 100.6 - 20.5,
    "qwen3.5-2b": 4_548_144_832 / 2e6 - 331.4 - 60.8,
    "qwen3.5-4b": 9_319_737_856 / 2e6 - 333.5 - 120.6,
    "qwen3.5-9b": 19_306_216_416 / 2e6 - 456.0 - 243.3,
    "gemma4-e2b": 5100 - 167.4 - 304.8 - 1.2 - 2.4,
    "gemma4-e4b": 7900 - 167.4 - 304.8 - 2.0 - 3.9,
}
# Qwen3's model cards: parameters without the embeddings, in billions.
QWEN3_NON_EMBEDDING = {"qwen3-0.6b": 0.44, "qwen3-1.7b": 1.4, "qwen3-4b": 3.6, "qwen3-8b": 6.95}


def test_catalog_has_twelve_models_and_both_builtins() -> None:
    assert len([s for s in MODEL_CATALOG if not s.builtin]) >= 12
    assert {"builtin:tiny-llama", "builtin:smollm2-135m"} <= set(catalog_names())


@pytest.mark.parametrize("alias, millions", sorted(PUBLISHED.items()))
def test_parameter_count_matches_published(alias: str, millions: float) -> None:
    assert find_model(alias).parameters / 1e6 == pytest.approx(millions, rel=0.01)


@pytest.mark.parametrize("name, alias", [
    ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
    ("llama-3.1-8b", "llama-3.1-8b"),
    ("LLAMA-3.1-8B", "llama-3.1-8b"),
    ("Qwen/Qwen2.5-0.5B-Instruct", "qwen2.5-0.5b"),
    ("HuggingFaceTB/SmolLM2-135M-Instruct", "smollm2-135m"),
    ("builtin:smollm2-135m", "smollm2-135m"),
    ("builtin:tiny-llama", "tiny-llama"),
    ("mistralai/Mistral-7B-Instruct-v0.3", "mistral-7b"),
])
def test_hub_ids_and_aliases_find_the_entry(name: str, alias: str) -> None:
    assert find_model(name).alias == alias


def test_every_entry_answers_to_its_hub_id_and_alias() -> None:
    for spec in MODEL_CATALOG:
        assert lookup(spec.hub_id) is spec
        assert lookup(spec.alias) is spec


def test_local_folder_config_is_read(tmp_path: Path) -> None:
    config = {"model_type": "llama", "num_hidden_layers": 3, "hidden_size": 128, "intermediate_size": 256,
              "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000,
              "max_position_embeddings": 4096, "tie_word_embeddings": True}
    (tmp_path / "config.json").write_text(json.dumps(config))
    spec = find_model(str(tmp_path))
    assert (spec.layers, spec.hidden_size, spec.kv_heads, spec.max_context) == (3, 128, 2, 4096)
    assert spec.parameters == 1000 * 128 + 3 * (128 * 128 * 2 + 2 * 128 * 64 + 3 * 128 * 256 + 2 * 128) + 128


def test_folder_without_config_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(PlainError) as err:
        find_model(str(tmp_path))
    assert err.value.code == "model_not_found"


def test_unknown_name_lists_known_models() -> None:
    with pytest.raises(PlainError) as err:
        find_model("not-a-model")
    assert err.value.code == "model_not_found"
    assert "llama-3.1-8b" in err.value.info.explanation


def test_unknown_hub_id_offline_is_plain_model_offline() -> None:
    with pytest.raises(PlainError) as err:
        find_model("someone/does-not-exist-model-xyz")
    assert err.value.code == "model_offline"


def test_phi3_fused_projections() -> None:
    spec = find_model("phi-3.5-mini")
    assert "qkv_proj" in spec.layer_linear_shapes and "gate_up_proj" in spec.layer_linear_shapes
    assert spec_from_config({"model_type": "phi3", "num_hidden_layers": 2, "hidden_size": 64,
                             "num_attention_heads": 4, "vocab_size": 10}).attention_modules == ("qkv_proj", "o_proj")


def test_builtin_tiny_llama_figures_match_its_config() -> None:
    from peftstudio.models import model_folder

    config = json.loads((model_folder("builtin:tiny-llama") / "config.json").read_text())
    built, listed = spec_from_config(config), find_model("builtin:tiny-llama")
    for name in ("layers", "hidden_size", "intermediate_size", "heads", "kv_heads", "tie_embeddings"):
        assert getattr(built, name) == getattr(listed, name), name
    assert built.vocab_size <= listed.vocab_size


@pytest.mark.parametrize("alias, billions", sorted(QWEN3_NON_EMBEDDING.items()))
def test_qwen3_non_embedding_parameters_match_the_model_cards(alias: str, billions: float) -> None:
    spec = find_model(alias)
    assert (spec.parameters - spec.vocab_size * spec.hidden_size * (1 if spec.tie_embeddings else 2)) / 1e9 \
        == pytest.approx(billions, rel=0.02)


def test_the_current_families_are_in_the_catalog() -> None:
    architectures = {s.architecture for s in MODEL_CATALOG}
    assert {"qwen3", "qwen3_5_text", "gemma3_text", "llama", "smollm3", "phi3", "mistral", "gpt_oss"} <= architectures
    assert all(s.source for s in MODEL_CATALOG if s.architecture in ("qwen3", "qwen3_5_text", "gpt_oss", "smollm3"))


def test_gated_models_are_marked() -> None:
    gated = {s.alias for s in MODEL_CATALOG if s.gated}
    assert {"llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "gemma3-1b", "gemma3-4b"} <= gated
    assert not {"qwen3-0.6b", "smollm3-3b", "gpt-oss-20b", "builtin:gemma3-270m", "gemma4-e2b"} & gated


def test_mixture_of_experts_stores_all_experts_and_computes_with_the_active_ones() -> None:
    spec = find_model("gpt-oss-20b")
    assert spec.parameters / 1e9 == pytest.approx(20.9, rel=0.01)
    active = spec.active_linear_parameters + spec.vocab_size * spec.hidden_size  # the model card: 3.6B active
    assert active / 1e9 == pytest.approx(3.6, rel=0.08)
    assert spec.all_modules == ("q_proj", "k_proj", "v_proj", "o_proj")


def test_gemma4_blocks_reuse_keys_and_values_and_widen_the_global_heads() -> None:
    spec = find_model("gemma4-e2b")
    kinds = [b.kind for b in spec.blocks]
    assert kinds.count("full") == 7 and kinds[4] == "full" and kinds[:4] == ["sliding"] * 4
    assert [b.reuses_kv for b in spec.blocks] == [False] * 15 + [True] * 20
    assert {b.head_dim for b in spec.blocks if b.kind == "full"} == {512}
    assert spec.module_layers("k_proj") == 15 and spec.module_layers("q_proj") == 35
    wide = spec.block_linear_shapes(spec.blocks[-1])
    assert wide["gate_proj"] == (1536, 2 * 6144) and "v_proj" not in wide and wide["q_proj"] == (1536, 8 * 512)
    # the per-layer embeddings: 262144 tokens x 35 layers x 256 values, about half the language model
    assert spec.per_layer_embedding_parameters == 262144 * 35 * 256
    assert not find_model("gemma4-e4b").double_wide_mlp and find_model("gemma4-e4b").module_layers("k_proj") == 24


def test_gemma4_config_read_like_the_catalog_entry() -> None:
    layer_types = (["sliding_attention"] * 4 + ["full_attention"]) * 7
    config = {"model_type": "gemma4", "text_config": {
        "model_type": "gemma4_text", "hidden_size": 1536, "intermediate_size": 6144, "num_hidden_layers": 35,
        "num_attention_heads": 8, "num_key_value_heads": 1, "head_dim": 256, "global_head_dim": 512,
        "vocab_size": 262144, "vocab_size_per_layer_input": 262144, "hidden_size_per_layer_input": 256,
        "num_kv_shared_layers": 20, "use_double_wide_mlp": True, "sliding_window": 512,
        "final_logit_softcapping": 30.0, "max_position_embeddings": 131072, "layer_types": layer_types,
        "attention_k_eq_v": False, "num_global_key_value_heads": None}}
    read, listed = spec_from_config(config), find_model("google/gemma-4-E2B-it")
    assert read.parameters == listed.parameters and read.blocks == listed.blocks
    assert (read.tie_embeddings, read.value_norm, read.logit_softcap) == (True, True, True)


def test_hybrid_linear_attention_layers() -> None:
    spec = find_model("qwen3.5-0.8b")
    assert (spec.attention_layers, spec.linear_layers) == (6, 18)
    assert spec.layer_linear_shapes["q_proj"] == (1024, 2 * 8 * 256)  # queries and the output gate
    assert spec.module_layers("q_proj") == 6 and spec.module_layers("down_proj") == 24
