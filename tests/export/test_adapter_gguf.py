"""Adapter-only export: the LoRA adapter as a GGUF adapter (llama.cpp's convert_lora_to_gguf.py) and an Ollama
Modelfile with FROM the base and ADAPTER the file; Test Export loads base + adapter in llama.cpp and compares
with the merged model."""

from __future__ import annotations

from pathlib import Path

import gguf
import pytest

from peftstudio.errors import PlainError
from peftstudio.export import ExportSource, export, export_gguf, export_ollama, verify_export
from peftstudio.export.ollama import parse_modelfile

pytestmark = pytest.mark.slow


def test_gguf_adapter_only_is_small_and_passes_test_export(tmp_path: Path, adapter_dir: Path) -> None:
    source = ExportSource("builtin:tiny-llama", str(adapter_dir), name="bot")
    result = export("gguf", source, tmp_path / "out", adapter_only=True, test=True)
    assert result.adapter_file == "bot-LoRA-F16.gguf" and result.model_file is None
    reader = gguf.GGUFReader(str(tmp_path / "out" / result.adapter_file))
    assert reader.fields["general.type"].contents() == "adapter"
    assert reader.fields["adapter.type"].contents() == "lora"
    assert result.size_bytes < 1_000_000  # the adapter alone, not the model
    assert result.test is not None and result.test.passed, result.test.message
    assert any(c.name == "llama.cpp: logits" for c in result.test.checks)


def test_ollama_adapter_only_writes_from_and_adapter(tmp_path: Path, adapter_dir: Path) -> None:
    source = ExportSource("builtin:tiny-llama", str(adapter_dir), name="bot")
    result = export_ollama(source, tmp_path / "ollama", quant="f16", adapter_only=True)
    parts = parse_modelfile((tmp_path / "ollama" / "Modelfile").read_text(encoding="utf-8"))
    assert parts["from"] == f"./{result.model_file}" and parts["adapter"] == f"./{result.adapter_file}"
    assert "template" in parts and parts["stop"]
    tested = verify_export(result)
    assert tested.passed, tested.message
    assert {c.name for c in tested.checks} >= {"llama.cpp: logits", "Modelfile template"}


def test_ollama_adapter_on_a_named_base_holds_the_adapter_alone(tmp_path: Path, adapter_dir: Path) -> None:
    source = ExportSource("builtin:tiny-llama", str(adapter_dir), name="bot")
    result = export_ollama(source, tmp_path / "ollama", adapter_only=True, base="tiny-llama:latest")
    assert result.files == ("Modelfile", "README.md", "bot-LoRA-F16.gguf")
    assert (tmp_path / "ollama" / "Modelfile").read_text(encoding="utf-8").startswith(
        "FROM tiny-llama:latest\nADAPTER ./bot-LoRA-F16.gguf\n")
    tested = verify_export(result)  # the base converted for the test, the adapter on top
    assert tested.passed, tested.message


def test_adapter_only_without_an_adapter_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlainError) as err:
        export_gguf(ExportSource("builtin:tiny-llama"), tmp_path / "out", adapter_only=True)
    assert err.value.info.code == "config_invalid"
    assert not (tmp_path / "out").exists()
