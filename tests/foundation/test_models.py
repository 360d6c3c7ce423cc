"""Built-in models and model references."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.errors import PlainError
from peftstudio.models import build_tiny_llama, load_model, load_tokenizer, model_folder, parse_reference


def test_tiny_llama_is_bit_identical_across_two_builds(tmp_path: Path) -> None:
    a = build_tiny_llama(seed=7, folder=tmp_path / "a")
    b = build_tiny_llama(seed=7, folder=tmp_path / "b")
    names = sorted(p.name for p in a.iterdir())
    assert "model.safetensors" in names and "tokenizer.json" in names
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    c = build_tiny_llama(seed=8, folder=tmp_path / "c")
    assert (c / "model.safetensors").read_bytes() != (a / "model.safetensors").read_bytes()


def test_tiny_llama_loads_and_chats_in_its_template() -> None:
    tok = load_tokenizer("builtin:tiny-llama")
    model = load_model("builtin:tiny-llama")
    assert model.config.model_type == "llama"
    assert 1_000_000 < sum(p.numel() for p in model.parameters()) < 5_000_000
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    ids = tok("Hello, world! 😀")["input_ids"]
    assert tok.decode(ids) == "Hello, world! 😀"


@pytest.mark.slow
def test_smollm2_answers_paris() -> None:
    import torch

    tok = load_tokenizer("builtin:smollm2-135m")
    model = load_model("builtin:smollm2-135m")
    inputs = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                     add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=16, do_sample=False)
    answer = tok.decode(out[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer
    assert list(model_folder("builtin:smollm2-135m").glob("*.safetensors"))


@pytest.mark.parametrize(
    ("reference", "kind"),
    [("builtin:tiny-llama", "builtin"), ("HuggingFaceTB/SmolLM2-135M-Instruct", "hub"), ("org/model.v2", "hub")],
)
def test_reference_kinds(reference: str, kind: str) -> None:
    assert parse_reference(reference).kind == kind


def test_folder_and_gguf_references(tmp_path: Path) -> None:
    folder = build_tiny_llama(seed=0)
    assert parse_reference(str(folder)).kind == "folder"
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert parse_reference(str(tmp_path / "m.gguf")).kind == "gguf"


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        ("builtin:gpt-5", "model_not_found"),
        ("not a model at all", "model_not_found"),
        ("/no/such/file.gguf", "file_not_found"),
    ],
)
def test_bad_references_are_plain_errors(reference: str, code: str) -> None:
    with pytest.raises(PlainError) as err:
        parse_reference(reference)
    assert err.value.code == code


def test_folder_without_config_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(PlainError) as err:
        parse_reference(str(tmp_path))
    assert err.value.code == "model_not_found"
    assert "builtin:tiny-llama" in err.value.render()


def test_hub_id_offline_gives_the_plain_offline_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PlainError) as err:
        load_model("meta-llama/Llama-3.1-8B-Instruct")
    info = err.value.info
    assert info.code == "model_offline"
    assert "offline" in info.explanation and "builtin:smollm2-135m" in err.value.render()
    assert len(info.actions) >= 2


@pytest.mark.parametrize("reference", ["builtin:tiny-llama", "builtin:smollm2-135m"])
def test_the_quick_tokenizer_path_gives_what_autotokenizer_gives(reference: str) -> None:
    from transformers import AutoTokenizer

    from peftstudio.models import load_tokenizer, model_folder

    ours, auto = load_tokenizer(reference), AutoTokenizer.from_pretrained(model_folder(reference))
    if auto.pad_token is None:
        auto.pad_token = auto.eos_token
    assert type(ours) is type(auto)
    texts = ["Hello, world!", "<|im_start|>user\nHi<|im_end|>", "中文 и ελληνικά 🚀", "  spaces\n\ttabs"]
    assert [ours(t)["input_ids"] for t in texts] == [auto(t)["input_ids"] for t in texts]
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    assert ours.apply_chat_template(chat, tokenize=False) == auto.apply_chat_template(chat, tokenize=False)
    assert (ours.bos_token, ours.eos_token, ours.pad_token, ours.pad_token_id) == (
        auto.bos_token, auto.eos_token, auto.pad_token, auto.pad_token_id)


def test_loading_a_tokenizer_does_not_load_torch() -> None:
    import subprocess
    import sys

    code = ("import sys; from peftstudio.models import load_tokenizer; load_tokenizer('builtin:smollm2-135m'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_gated_model_says_to_accept_the_licence_and_log_in(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    from peftstudio.errors import PlainError
    from peftstudio.models.loading import model_folder

    class GatedRepoError(Exception):
        pass

    def refuse(repo_id: str, **_: object) -> str:
        raise GatedRepoError(f"403 Client Error: access to model {repo_id} is restricted")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", refuse)
    with pytest.raises(PlainError) as err:
        model_folder("meta-llama/Llama-3.2-1B-Instruct")
    assert err.value.code == "model_gated"
    assert "accept" in err.value.info.explanation and "licence" in err.value.info.explanation
    assert any("hf auth login" in step for a in err.value.info.actions for step in a.steps)


def test_the_plan_of_a_gated_model_warns_before_any_download() -> None:
    from peftstudio.hardware import simulated_hardware
    from peftstudio.planner import plan

    gated = plan(simulated_hardware("H100"), "gemma3-1b", "chatbot")
    assert any("gated" in w and "huggingface.co/google/gemma-3-1b-it" in w for w in gated.warnings)
    assert not any("gated" in w for w in plan(simulated_hardware("H100"), "qwen3-1.7b", "chatbot").warnings)
