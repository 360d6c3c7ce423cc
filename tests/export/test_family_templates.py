"""Every family we export gets an Ollama Modelfile whose TEMPLATE renders conversations exactly like the
model's own chat template (tokenizer.apply_chat_template), and whose stop tokens are its end-of-turn tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.export.ollama import modelfile_text, parse_modelfile, special_tokens, translate_chat_template
from peftstudio.export.records import GenerationDefaults
from peftstudio.export.template import SAMPLE_CONVERSATIONS, ollama_messages, render_go
from tests.export.chat_templates import FAMILY_TEMPLATES, family_tokenizer

CONVERSATIONS = SAMPLE_CONVERSATIONS + (
    ({"role": "system", "content": "Be brief."}, {"role": "user", "content": "One?"},
     {"role": "assistant", "content": "Yes."}, {"role": "user", "content": "Two?"},
     {"role": "assistant", "content": "No."}, {"role": "user", "content": "Three?"}),
)


@pytest.mark.parametrize("family", list(FAMILY_TEMPLATES))
def test_modelfile_renders_like_the_chat_template_and_stops_at_the_end_of_turn(family: str,
                                                                              tiny_folder: Path) -> None:
    tok = family_tokenizer(family, tiny_folder)
    parts = parse_modelfile(modelfile_text("m.gguf", translate_chat_template(tok), GenerationDefaults()))
    for conversation in CONVERSATIONS:
        expected = tok.apply_chat_template(list(conversation), tokenize=False, add_generation_prompt=True)
        assert render_go(parts["template"], ollama_messages(conversation, parts.get("system"))) == expected
    end_of_turn = FAMILY_TEMPLATES[family][4]
    assert parts["stop"][0] in end_of_turn + (tok.eos_token,)
    assert set(end_of_turn) <= set(parts["stop"])
    assert all(s in special_tokens(tok) for s in parts["stop"])  # never a word a person may type


def test_gemma_system_goes_into_the_first_question(tiny_folder: Path) -> None:
    parts = parse_modelfile(modelfile_text("m.gguf", translate_chat_template(family_tokenizer("gemma3", tiny_folder)),
                                           GenerationDefaults()))
    text = render_go(parts["template"], [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}])
    assert text == "<bos><start_of_turn>user\nS\n\nQ<end_of_turn>\n<start_of_turn>model\n"


def test_mistral_system_goes_into_the_last_question(tiny_folder: Path) -> None:
    parts = parse_modelfile(modelfile_text("m.gguf", translate_chat_template(family_tokenizer("mistral", tiny_folder)),
                                           GenerationDefaults()))
    text = render_go(parts["template"], [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"},
                                         {"role": "assistant", "content": "A"}, {"role": "user", "content": "R"}])
    assert text == "<s>[INST] Q[/INST] A</s>[INST] S\n\nR[/INST]"


@pytest.mark.parametrize("eos", [None, 1, [1, 7]])
def test_hf_export_generation_config_stops_at_gemmas_end_of_turn(eos: int | list[int] | None,
                                                                 tiny_folder: Path) -> None:
    from peftstudio.export.hf import _stops

    tok = family_tokenizer("gemma3", tiny_folder)
    stops = _stops(eos, tok)
    own = [tok.eos_token_id] if eos is None else ([eos] if isinstance(eos, int) else eos)
    assert isinstance(stops, list) and stops[:len(own)] == own  # the model's own ids first, kept
    assert tok.convert_tokens_to_ids("<end_of_turn>") in stops and tok.eos_token_id in stops
    smollm2 = family_tokenizer("smollm2", tiny_folder)  # ChatML ends turns with its eos: one id, as before
    assert _stops(None, smollm2) == smollm2.eos_token_id
