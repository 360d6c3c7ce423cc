"""Model references, the built-in models, and loading models and tokenizers."""

from peftstudio.models.builtins import build_smollm2, build_tiny_llama, smollm2_gguf_path
from peftstudio.models.loading import load_model, load_tokenizer, model_folder, resolve_model
from peftstudio.models.references import BUILTIN_MODELS, ModelReference, local_model, parse_reference

__all__ = [
    "BUILTIN_MODELS",
    "ModelReference",
    "build_smollm2",
    "build_tiny_llama",
    "load_model",
    "load_tokenizer",
    "local_model",
    "model_folder",
    "parse_reference",
    "resolve_model",
    "smollm2_gguf_path",
]
