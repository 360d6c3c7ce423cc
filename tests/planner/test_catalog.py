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
    assert {"llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "gemma3-1b"} <= gated
    assert not {"qwen3-0.6b", "smollm3-3b", "gpt-oss-20b", "builtin:gemma3-270m"} & gated


def test_mixture_of_experts_stores_all_experts_and_computes_with_the_active_ones() -> None:
    spec = find_model("gpt-oss-20b")
    assert spec.parameters / 1e9 == pytest.approx(20.9, rel=0.01)
    active = spec.active_linear_parameters + spec.vocab_size * spec.hidden_size  # the model card: 3.6B active
    assert active / 1e9 == pytest.approx(3.6, rel=0.08)
    assert spec.all_modules == ("q_proj", "k_proj", "v_proj", "o_proj")


def test_hybrid_linear_attention_layers() -> None:
    spec = find_model("qwen3.5-0.8b")
    assert (spec.attention_layers, spec.linear_layers) == (6, 18)
    assert spec.layer_linear_shapes["q_proj"] == (1024, 2 * 8 * 256)  # queries and the output gate
    assert spec.module_layers("q_proj") == 6 and spec.module_layers("down_proj") == 24
