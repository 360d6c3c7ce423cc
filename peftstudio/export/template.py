"""Translate a Hugging Face (Jinja) chat template into an Ollama (Go) template, and check the translation.

Rather than parse Jinja, we watch it work: the template renders a few conversations whose contents
are unique markers, and the text around each marker gives every role's prefix and suffix, the text
before the first message, the generation prompt, and any default system prompt the template adds.
From those we write a Go template in a small, fixed form and render it with a small Go-template
renderer (`render_go`) to check that it gives exactly what the Jinja template gives.

Example:
    >>> def chatml(messages, add_generation_prompt):
    ...     text = "".join(f"<|im_start|>{m['role']}\\n{m['content']}<|im_end|>\\n" for m in messages)
    ...     return text + ("<|im_start|>assistant\\n" if add_generation_prompt else "")
    >>> layout = analyze(chatml)
    >>> layout.user
    RoleBlock(prefix='<|im_start|>user\\n', suffix='<|im_end|>\\n')
    >>> render_go(to_go_template(layout), [{"role": "user", "content": "Hi"}])
    '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from attrs import frozen

Message = dict[str, str]
RenderFn = Callable[[list[Message], bool], str]

_S, _U, _A, _V, _B = "Zq7sysMark", "Zq7usrMark", "Zq7astMark", "Zq7usrMarkTwo", "Zq7astMarkTwo"


class TemplateUntranslatable(ValueError):
    """The chat template does something the Ollama form cannot say; the message says what."""


@frozen
class RoleBlock:
    prefix: str
    suffix: str


@frozen
class ChatLayout:
    """A chat template reduced to text blocks: what goes around each role's message, and once per chat."""

    start: str
    system: RoleBlock
    user: RoleBlock
    assistant: RoleBlock
    generation: str
    default_system: str | None = None


def _split(block: str, marker: str, what: str) -> RoleBlock:
    if block.count(marker) != 1:
        raise TemplateUntranslatable(f"the {what} message does not appear exactly once where expected")
    prefix, suffix = block.split(marker)
    return RoleBlock(prefix, suffix)


def _after(longer: str, shorter: str, what: str) -> str:
    if not longer.startswith(shorter):
        raise TemplateUntranslatable(f"adding {what} changes the text before it")
    return longer[len(shorter):]


def analyze(render: RenderFn) -> ChatLayout:
    """The layout of the chat template `render` (``render(messages, add_generation_prompt) -> text``)."""
    sys_, user, asst = {"role": "system", "content": _S}, {"role": "user", "content": _U}, {"role": "assistant",
                                                                                          "content": _A}
    user2, asst2 = {"role": "user", "content": _V}, {"role": "assistant", "content": _B}
    try:
        t_su = render([sys_, user], False)
        t_sua = render([sys_, user, asst], False)
        t_suav = render([sys_, user, asst, user2], False)
        t_suavb = render([sys_, user, asst, user2, asst2], False)
        t_su_gen = render([sys_, user], True)
        t_u = render([user], False)
    except Exception as exc:  # noqa: BLE001 - a Jinja template may raise_exception() on anything
        raise TemplateUntranslatable(f"the template refused a simple conversation ({exc})") from None
    assistant = _split(_after(t_sua, t_su, "an answer"), _A, "assistant")
    user_block = _split(_after(t_suav, t_sua, "a second question"), _V, "user")
    if _after(t_suavb, t_suav, "a second answer") != assistant.prefix + _B + assistant.suffix:
        raise TemplateUntranslatable("the assistant's messages are not all written the same way")
    generation = _after(t_su_gen, t_su, "the generation prompt")
    first_user = user_block.prefix + _U + user_block.suffix
    if not t_su.endswith(first_user) or not t_u.endswith(first_user):
        raise TemplateUntranslatable("the first question is written differently from later ones")
    system = _split(t_su[: -len(first_user)], _S, "system")
    before_user = t_u[: -len(first_user)]
    start, default_system, sys_prefix = "", None, system.prefix
    if before_user and before_user.startswith(system.prefix) and system.suffix and before_user.endswith(system.suffix) \
            and len(before_user) > len(system.prefix) + len(system.suffix):
        default_system = before_user[len(system.prefix): -len(system.suffix)]
    elif system.prefix.startswith(before_user):
        start, sys_prefix = before_user, system.prefix[len(before_user):]
    else:
        raise TemplateUntranslatable("the text before the first message depends on the system message")
    return ChatLayout(start, RoleBlock(sys_prefix, system.suffix), user_block, assistant, generation, default_system)


def _go_text(text: str) -> str:
    # Go templates treat "{{" as an action; write such literal text as a quoted string action.
    return text.replace("{{", '{{ "{{" }}') if "{{" in text else text


def to_go_template(layout: ChatLayout) -> str:
    """The Ollama TEMPLATE for `layout`: every message in order, then the generation prompt."""
    def block(role: str, b: RoleBlock) -> str:
        return f'{{{{ if eq .Role "{role}" }}}}{_go_text(b.prefix)}{{{{ .Content }}}}{_go_text(b.suffix)}'

    return (
        f"{_go_text(layout.start)}{{{{ range .Messages }}}}"
        + block("system", layout.system)
        + block("user", layout.user).replace("{{ if", "{{ else if", 1)
        + block("assistant", layout.assistant).replace("{{ if", "{{ else if", 1)
        + f"{{{{ end }}}}{{{{ end }}}}{_go_text(layout.generation)}"
    )


def stop_words(layout: ChatLayout, special_tokens: Sequence[str], eos: str | None) -> tuple[str, ...]:
    """Stop strings for Ollama: the end-of-sequence token and the special tokens that end an answer or
    begin the next turn (e.g. ``<|im_end|>`` and ``<|im_start|>``).

    Example:
        >>> chatml = ChatLayout("", RoleBlock("<|im_start|>system\\n", "<|im_end|>\\n"),
        ...                     RoleBlock("<|im_start|>user\\n", "<|im_end|>\\n"),
        ...                     RoleBlock("<|im_start|>assistant\\n", "<|im_end|>\\n"), "<|im_start|>assistant\\n")
        >>> stop_words(chatml, ["<|im_start|>", "<|im_end|>", "<|endoftext|>"], "<|im_end|>")
        ('<|im_end|>', '<|im_start|>')
    """
    found = [eos] if eos else []
    boundary = layout.assistant.suffix + layout.user.prefix
    for token in sorted(special_tokens, key=boundary.find):
        if token and token in boundary and token not in found:
            found.append(token)
    return tuple(found)


def ollama_messages(messages: Sequence[Message], default_system: str | None) -> list[Message]:
    """The messages as Ollama hands them to a template: the Modelfile's SYSTEM put first when the
    chat has no system message, and consecutive messages of one role joined."""
    msgs = [dict(m) for m in messages]
    if default_system is not None and (not msgs or msgs[0]["role"] != "system"):
        msgs.insert(0, {"role": "system", "content": default_system})
    joined: list[Message] = []
    for m in msgs:
        if joined and joined[-1]["role"] == m["role"]:
            joined[-1]["content"] += "\n\n" + m["content"]
        else:
            joined.append(m)
    return joined


# --- a renderer for the Go-template subset `to_go_template` writes ---------------------------------------

_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.DOTALL)


def _tokens(template: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, trim_next = 0, False
    for m in _ACTION.finditer(template):
        text = template[pos: m.start()]
        if trim_next:
            text = text.lstrip()
        if m.group(1):
            text = text.rstrip()
        out.append(("text", text))
        out.append(("action", m.group(2)))
        trim_next, pos = bool(m.group(3)), m.end()
    tail = template[pos:]
    out.append(("text", tail.lstrip() if trim_next else tail))
    return out


def _value(expr: str, dot: dict[str, Any], root: dict[str, Any]) -> Any:
    expr = expr.strip()
    if expr.startswith('"'):
        return json.loads(expr)
    if expr.startswith("eq "):
        left, right = re.match(r'eq\s+(\S+)\s+(".*")$', expr).groups()  # type: ignore[union-attr]
        return _value(left, dot, root) == _value(right, dot, root)
    if expr.startswith("."):
        return dot.get(expr[1:], "")
    raise ValueError(f"unsupported Go template expression: {expr}")


def render_go(template: str, messages: Sequence[Message], system: str = "") -> str:
    """Render `template` the way Ollama would for `messages` (the subset `to_go_template` writes:
    text, ``range .Messages``, ``if eq .Role "x"`` / ``else if`` / ``end``, ``.Content``, ``"string"``)."""
    items = [{"Role": m["role"], "Content": m["content"]} for m in messages]
    root: dict[str, Any] = {"Messages": items, "System": system}
    tokens = _tokens(template)

    def run(i: int, dot: dict[str, Any], out: list[str] | None) -> tuple[int, str]:
        # Executes tokens from i until an unmatched else/end; returns (index of that token, its text).
        while i < len(tokens):
            kind, body = tokens[i]
            if kind == "text":
                if out is not None:
                    out.append(body)
                i += 1
            elif body == "end" or body.startswith("else"):
                return i, body
            elif body == "range .Messages":
                start = i + 1
                end = start
                for item in root["Messages"] if out is not None else []:
                    end, _ = run(start, item, out)
                if out is None or not root["Messages"]:
                    end, _ = run(start, dot, None)
                i = end + 1
            elif body.startswith("if "):
                taken = out is not None and bool(_value(body[3:], dot, root))
                i, stop = run(i + 1, dot, out if taken else None)
                done = taken
                while stop.startswith("else"):
                    cond = stop[len("else"):].strip()
                    branch = not done and (not cond or bool(_value(cond[3:], dot, root)))
                    i, stop = run(i + 1, dot, out if (branch and out is not None) else None)
                    done = done or branch
                i += 1
            else:
                if out is not None:
                    out.append(str(_value(body, dot, root)))
                i += 1
        return i, ""

    out: list[str] = []
    run(0, root, out)
    return "".join(out)


def check_translation(render: RenderFn, template: str, default_system: str | None,
                      conversations: Sequence[Sequence[Message]] | None = None) -> list[str]:
    """Conversations on which the Go template and the Jinja template disagree (empty when they agree)."""
    problems = []
    for messages in conversations or SAMPLE_CONVERSATIONS:
        expected = render(list(messages), True)
        got = render_go(template, ollama_messages(messages, default_system))
        if got != expected:
            problems.append(f"{json.dumps(list(messages))[:80]}: expected {expected!r}, got {got!r}")
    return problems


SAMPLE_CONVERSATIONS: tuple[tuple[Message, ...], ...] = (
    ({"role": "user", "content": "Hello! How are you?"},),
    ({"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a color."}),
    (
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "Quatre."},
        {"role": "user", "content": "And 3 + 3?\nThanks {{ you }}"},
    ),
    (
        {"role": "user", "content": "Write `print('hi')` in Python 🐍"},
        {"role": "assistant", "content": "print('hi')"},
        {"role": "user", "content": "Danke schön. 谢谢"},
    ),
)
