"""GGUF export through llama.cpp's converter for today's families, at f16 and q4_k_m, each passing
Test Export in llama.cpp; a model the converter does not know gets the plain error naming the ones it does."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import pytest

from peftstudio.errors import PlainError
from peftstudio.export import ExportSource, export_gguf, verify_export
from peftstudio.export.converter import supported_architectures
from tests.export.families import RANDOM_WEIGHTS_MIN_TOP1, build_family

pytestmark = pytest.mark.slow

ARCH = {"llama3": "llama", "qwen3": "qwen3", "gemma3": "gemma3", "mistral": "llama", "smollm3": "smollm3"}


@pytest.fixture(scope="module")
def family_folders(tmp_path_factory: pytest.TempPathFactory, tiny_folder: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("families")
    return {f: build_family(f, root / f, tiny_folder) for f in ARCH}


@pytest.mark.parametrize("quant", ["f16", "q4_k_m"])
@pytest.mark.parametrize("family", list(ARCH))
def test_family_exports_and_passes_test_export(tmp_path: Path, family_folders: dict[str, Path], family: str,
                                               quant: str) -> None:
    result = export_gguf(ExportSource(str(family_folders[family])), tmp_path / "out", quant=quant)
    reader = gguf.GGUFReader(str(Path(result.path) / str(result.model_file)))
    assert reader.fields["general.architecture"].contents() == ARCH[family]
    assert "tokenizer.chat_template" in reader.fields
    if quant == "q4_k_m":  # real rows (multiples of 256) get the type asked for
        assert any(t.tensor_type == gguf.GGMLQuantizationType.Q4_K for t in reader.tensors)
    tested = verify_export(result, loaders=("llama.cpp",), min_top1=RANDOM_WEIGHTS_MIN_TOP1)
    assert tested.passed, tested.message
    assert tested.tokenizer_agreement == 1.0


def test_unknown_architecture_gets_the_plain_error(tmp_path: Path, family_folders: dict[str, Path]) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    for item in family_folders["mistral"].iterdir():
        (folder / item.name).write_bytes(item.read_bytes())
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["PeftStudioOddForCausalLM"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(PlainError) as err:
        export_gguf(ExportSource(str(folder)), tmp_path / "out", quant="f16")
    assert err.value.info.code == "export_unsupported_architecture"
    assert "PeftStudioOddForCausalLM" in err.value.info.explanation
    assert "Qwen3" in err.value.info.explanation and "Gemma3" in err.value.info.explanation
    assert not (tmp_path / "out").exists()


def test_supported_architectures_are_read_from_the_converter() -> None:
    names = supported_architectures()
    assert {"LlamaForCausalLM", "Qwen3ForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM",
            "SmolLM3ForCausalLM"} <= set(names)
