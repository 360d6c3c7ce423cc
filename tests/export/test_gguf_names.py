"""The tensor-name table agrees with gguf-py's own map, and the q/k permutation is the right rotation."""

from __future__ import annotations

import gguf
import numpy as np
import pytest

from peftstudio.export.gguf.names import ARCHITECTURES, GLOBAL_NAMES, LAYER_NAMES, gguf_name
from peftstudio.export.gguf.writer import permute_rotary, q8_0_nbytes, stored_type

GGUF_ARCH = {"llama": gguf.MODEL_ARCH.LLAMA, "qwen2": gguf.MODEL_ARCH.QWEN2}


@pytest.mark.parametrize("arch", sorted({spec.gguf_arch for spec in ARCHITECTURES.values()}))
def test_table_matches_gguf_py_tensor_map(arch: str) -> None:
    names = gguf.get_tensor_name_map(GGUF_ARCH[arch], 4)
    hf_names = list(GLOBAL_NAMES) + [f"model.layers.3.{suffix}" for suffix in LAYER_NAMES]
    for hf in hf_names:
        if arch == "llama" and hf.endswith(".bias"):
            continue  # llama has no q/k/v biases
        expected = names.get_name(hf, try_suffixes=(".weight", ".bias"))
        assert gguf_name(hf) == expected, hf


def test_unknown_tensor_is_an_error_and_rotary_buffers_are_dropped() -> None:
    with pytest.raises(KeyError):
        gguf_name("model.layers.0.mlp.experts.0.w1.weight")
    assert gguf_name("model.layers.2.self_attn.rotary_emb.inv_freq") is None


def _rope_halves(x: np.ndarray, pos: int, theta: float = 10000.0) -> np.ndarray:
    """Hugging Face Llama: pair (i, i + d/2) rotated by angle pos * theta^(-2i/d)."""
    d = x.shape[-1]
    freqs = theta ** (-np.arange(0, d, 2) / d) * pos
    cos, sin = np.cos(np.concatenate([freqs, freqs])), np.sin(np.concatenate([freqs, freqs]))
    rotated = np.concatenate([-x[..., d // 2:], x[..., : d // 2]], -1)
    return x * cos + rotated * sin


def _rope_adjacent(x: np.ndarray, pos: int, theta: float = 10000.0) -> np.ndarray:
    """llama.cpp's normal rope: pair (2i, 2i + 1) rotated by the same angles."""
    d = x.shape[-1]
    ang = theta ** (-np.arange(0, d, 2) / d) * pos
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * np.cos(ang) - b * np.sin(ang)
    out[..., 1::2] = a * np.sin(ang) + b * np.cos(ang)
    return out


@pytest.mark.parametrize("n_head,n_kv,head_dim", [(6, 2, 32), (9, 3, 64), (4, 4, 8)])
def test_permuted_weights_give_the_same_attention_scores_under_llama_cpp_rope(n_head: int, n_kv: int,
                                                                              head_dim: int) -> None:
    rng = np.random.default_rng(0)
    hidden = 48
    wq = rng.normal(size=(n_head * head_dim, hidden))
    wk = rng.normal(size=(n_kv * head_dim, hidden))
    x_q, x_k = rng.normal(size=hidden), rng.normal(size=hidden)

    def scores(wq: np.ndarray, wk: np.ndarray, rope: object) -> np.ndarray:
        q = (wq @ x_q).reshape(n_head, head_dim)
        k = (wk @ x_k).reshape(n_kv, head_dim)
        q, k = rope(q, 7), rope(k, 3)  # type: ignore[operator]
        return np.array([[q[h] @ k[h * n_kv // n_head]] for h in range(n_head)])

    hf = scores(wq, wk, _rope_halves)
    cpp = scores(permute_rotary(wq, n_head), permute_rotary(wk, n_kv), _rope_adjacent)
    np.testing.assert_allclose(cpp, hf, rtol=1e-9, atol=1e-9)
    unpermuted = scores(wq, wk, _rope_adjacent)
    assert not np.allclose(unpermuted, hf)  # the permutation is what makes them agree


@pytest.mark.parametrize(
    "shape,quant,expected",
    [((576,), "f16", "f32"), ((576,), "q8_0", "f32"), ((64, 576), "f32", "f32"), ((64, 576), "f16", "f16"),
     ((64, 576), "q8_0", "q8_0"), ((64, 40), "q8_0", "f16")],
)
def test_stored_type(shape: tuple[int, ...], quant: str, expected: str) -> None:
    assert stored_type(shape, quant) == expected


def test_q8_0_size_matches_gguf_quantize() -> None:
    data = np.random.default_rng(1).normal(size=(10, 96)).astype(np.float32)
    packed = gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
    assert packed.nbytes == q8_0_nbytes((10, 96))
