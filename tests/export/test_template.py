"""Chat template -> Ollama template translation, checked against real Jinja rendering."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from peftstudio.export.template import (
    SAMPLE_CONVERSATIONS,
    RoleBlock,
    TemplateUntranslatable,
    analyze,
    check_translation,
    ollama_messages,
    render_go,
    stop_words,
    to_go_template,
)

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
SMOLLM2 = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
           "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}"
           "{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
           "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
LLAMA3 = ("{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
          "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")
ZEPHYR = ("{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}")
BRACES = ("{% for message in messages %}{{ '{{' + message['role'] + '}}: ' + message['content'] + '\\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '{{assistant}}: ' }}{% endif %}")
NO_SYSTEM = ("{% for message in messages %}{% if message['role'] == 'system' %}{{ raise_exception('no system') }}"
             "{% endif %}{{ message['content'] }}{% endfor %}")
NUMBERED = ("{% for message in messages %}{{ loop.index|string + ':' + message['content'] + '\\n' }}{% endfor %}"
            "{% if add_generation_prompt %}{{ 'A:' }}{% endif %}")
TRIMMED_ASSISTANT = ("{% for message in messages %}{% if message['role'] == 'assistant' and not loop.last %}"
                     "{{ '[A] ' + message['content'] + '\\n' }}{% else %}{{ '[' + message['role'] + '] ' + "
                     "message['content'] + '\\n' }}{% endif %}{% endfor %}")


def renderer(template: str) -> Callable[[list[dict[str, str]], bool], str]:
    """Render like transformers does: a sandboxed Jinja environment with the special tokens as variables."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message: str) -> None:
        raise ValueError(message)

    env.globals["raise_exception"] = raise_exception
    compiled = env.from_string(template)

    def render(messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
        return compiled.render(messages=messages, add_generation_prompt=add_generation_prompt,
                               bos_token="<s>", eos_token="</s>")

    return render


@pytest.mark.parametrize("template", [CHATML, SMOLLM2, LLAMA3, ZEPHYR, BRACES], ids=["chatml", "smollm2", "llama3",
                                                                                    "zephyr", "braces"])
def test_translation_renders_like_jinja(template: str) -> None:
    render = renderer(template)
    layout = analyze(render)
    go = to_go_template(layout)
    assert check_translation(render, go, layout.default_system) == []


def test_default_system_prompt_is_found() -> None:
    layout = analyze(renderer(SMOLLM2))
    assert layout.default_system == "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    assert layout.start == "" and layout.system.prefix == "<|im_start|>system\n"
    assert analyze(renderer(CHATML)).default_system is None


def test_text_before_the_first_message_is_kept_once() -> None:
    layout = analyze(renderer(LLAMA3))
    assert layout.start == "<s>" and layout.system.prefix.startswith("<|start_header_id|>system")
    go = to_go_template(layout)
    assert render_go(go, [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                          {"role": "user", "content": "c"}]).count("<s>") == 1


def test_a_last_answer_written_differently_is_read_from_the_middle_of_the_chat() -> None:
    # as Qwen3 writes the chat's last answer with an empty think block: Ollama renders chats ending in a question
    render = renderer(TRIMMED_ASSISTANT)
    layout = analyze(render)
    assert layout.assistant == RoleBlock("[A] ", "\n")
    assert check_translation(render, to_go_template(layout), None) == []


@pytest.mark.parametrize("template", [NO_SYSTEM, NUMBERED], ids=["no-system", "numbered"])
def test_untranslatable_templates_are_refused(template: str) -> None:
    with pytest.raises(TemplateUntranslatable):
        analyze(renderer(template))


def test_a_wrong_translation_is_detected() -> None:
    render = renderer(CHATML)
    go = to_go_template(analyze(renderer(ZEPHYR)))
    problems = check_translation(render, go, None)
    assert len(problems) == len(SAMPLE_CONVERSATIONS)


def test_literal_braces_are_escaped_for_go() -> None:
    go = to_go_template(analyze(renderer(BRACES)))
    assert '{{ "{{" }}' in go
    assert render_go(go, [{"role": "user", "content": "hi"}]) == "{{user}}: hi\n{{assistant}}: "


@pytest.mark.parametrize(
    "template,expected",
    [
        ('a {{- "b" -}}   c', "abc"),
        ("{{ range .Messages }}[{{ .Content }}]{{ end }}", "[x][y]"),
        (('{{ range .Messages }}{{ if eq .Role "user" }}U{{ else if eq .Role "assistant" }}A{{ else }}?{{ end }}'
         "{{ end }}"), "UA"),
        ('{{ if eq "a" "b" }}no{{ else }}yes{{ end }}', "yes"),
    ],
)
def test_go_renderer_subset(template: str, expected: str) -> None:
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]
    assert render_go(template, messages) == expected


def test_go_renderer_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        render_go("{{ printf \"%d\" 1 }}", [])


def test_ollama_messages_prepend_the_default_system_and_join_same_roles() -> None:
    msgs = ollama_messages([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "S")
    assert msgs == [{"role": "system", "content": "S"}, {"role": "user", "content": "a\n\nb"}]
    given = [{"role": "system", "content": "mine"}, {"role": "user", "content": "q"}]
    assert ollama_messages(given, "S") == given


def test_stop_words() -> None:
    layout = analyze(renderer(ZEPHYR))
    assert stop_words(layout, ["</s>", "<s>", "<|user|>"], "</s>") == ("</s>", "<|user|>")
    chatml = analyze(renderer(CHATML))
    assert stop_words(chatml, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], "<|endoftext|>") == (
        "<|endoftext|>", "<|im_end|>", "<|im_start|>")
