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
    """A chat template reduced to text blocks: what goes around each role's message, and once per chat.

    `system_into` says where the system message goes: ``""`` in its own block (`system`); ``"first"`` inside
    the first user message (Gemma: its text and `system.suffix` before the question); ``"last"`` inside the
    last message when that is a question (Mistral). `always_system`: the system block is written even
    without a system message, empty (Llama 3.1/3.2's date header). `close`: text the template adds after the
    last message when no answer is asked for (Phi-3's end of text); Ollama always asks for one, so it is
    left out.
    """

    start: str
    system: RoleBlock
    user: RoleBlock
    assistant: RoleBlock
    generation: str
    default_system: str | None = None
    system_into: str = ""
    always_system: bool = False
    close: str = ""


def _split(block: str, marker: str, what: str) -> RoleBlock:
    if block.count(marker) != 1:
        raise TemplateUntranslatable(f"the {what} message does not appear exactly once where expected")
    prefix, suffix = block.split(marker)
    return RoleBlock(prefix, suffix)


def _after(longer: str, shorter: str, what: str) -> str:
    if not longer.startswith(shorter):
        raise TemplateUntranslatable(f"adding {what} changes the text before it")
    return longer[len(shorter):]


def _closing(ended: list[str], longer: str, shorter: str) -> str:
    """Text every render ends with and that adding a message moves to the end (Phi-3's ``eos`` after the
    last message): the shortest such ending, or "" when adding a message only appends."""
    if longer.startswith(shorter):
        return ""
    for k in range(1, min(64, len(shorter)) + 1):
        tail = shorter[-k:]
        if all(t.endswith(tail) for t in ended) and longer[:-k].startswith(shorter[:-k]):
            return tail
    raise TemplateUntranslatable("adding an answer changes the text before it")


def _common_suffix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[len(a) - n - 1] == b[len(b) - n - 1]:
        n += 1
    return a[len(a) - n:]


def _middle_blocks(render: RenderFn, t_u: str, t_uav: str, close: str) -> tuple[RoleBlock, RoleBlock]:
    """The assistant and user blocks read from answers in the middle of a chat (followed by a question), for
    templates that write the chat's last answer differently. Ollama renders a chat that ends with a
    question, so only the middle form matters there."""
    mid = _after(t_uav, t_u, "an answer")
    if mid.count(_A) != 1 or mid.count(_V) != 1 or mid.index(_A) > mid.index(_V):
        raise TemplateUntranslatable("the answer does not appear exactly once where expected")
    a_prefix, rest = mid.split(_A)
    between, u_suffix = rest.split(_V)
    if not t_u.endswith(_U + u_suffix):
        raise TemplateUntranslatable("the first question is written differently from later ones")
    u_prefix = _common_suffix(t_u[: -len(_U + u_suffix)], between)
    assistant, user = RoleBlock(a_prefix, between[: len(between) - len(u_prefix)]), RoleBlock(u_prefix, u_suffix)
    w = {"role": "user", "content": "Zq7usrMarkThree"}
    longer = render([{"role": "user", "content": _U}, {"role": "assistant", "content": _A},
                     {"role": "user", "content": _V}, {"role": "assistant", "content": _B}, w], False)
    longer = longer[: len(longer) - len(close)] if close else longer
    expected = assistant.prefix + _B + assistant.suffix + user.prefix + w["content"] + user.suffix
    if _after(longer, t_uav, "a second answer") != expected:
        raise TemplateUntranslatable("the assistant's messages are not all written the same way")
    return assistant, user


def analyze(render: RenderFn) -> ChatLayout:
    """The layout of the chat template `render` (``render(messages, add_generation_prompt) -> text``)."""
    sys_, user, asst = {"role": "system", "content": _S}, {"role": "user", "content": _U}, {"role": "assistant",
                                                                                          "content": _A}
    user2, asst2 = {"role": "user", "content": _V}, {"role": "assistant", "content": _B}
    try:
        t_u = render([user], False)
        t_ua = render([user, asst], False)
        t_uav = render([user, asst, user2], False)
        t_uavb = render([user, asst, user2, asst2], False)
        t_u_gen = render([user], True)
        t_su = render([sys_, user], False)
        t_suav = render([sys_, user, asst, user2], False)
    except Exception as exc:  # noqa: BLE001 - a Jinja template may raise_exception() on anything
        raise TemplateUntranslatable(f"the template refused a simple conversation ({exc})") from None
    close = _closing([t_u, t_ua, t_uav, t_uavb, t_su, t_suav], t_ua, t_u)
    if close:
        t_u, t_ua, t_uav, t_uavb, t_su, t_suav = (t[: -len(close)] for t in (t_u, t_ua, t_uav, t_uavb, t_su, t_suav))
    if t_uav.startswith(t_ua):
        assistant = _split(_after(t_ua, t_u, "an answer"), _A, "assistant")
        user_block = _split(_after(t_uav, t_ua, "a second question"), _V, "user")
        if _after(t_uavb, t_uav, "a second answer") != assistant.prefix + _B + assistant.suffix:
            raise TemplateUntranslatable("the assistant's messages are not all written the same way")
    else:  # the answer that ends a chat is written its own way (Qwen3's empty think block)
        assistant, user_block = _middle_blocks(render, t_u, t_uav, close)
    generation = _after(t_u_gen, t_u + close if close and t_u_gen.startswith(t_u + close) else t_u,
                        "the generation prompt")
    first_user = user_block.prefix + _U + user_block.suffix
    if not t_u.endswith(first_user):
        raise TemplateUntranslatable("the first question is written differently from later ones")
    before_user = t_u[: -len(first_user)]
    layout = dict(user=user_block, assistant=assistant, generation=generation, close=close)
    if t_su.endswith(first_user):  # the system message has a block of its own
        system = _split(t_su[: -len(first_user)], _S, "system")
        if before_user.startswith(system.prefix) and before_user.endswith(system.suffix) and system.suffix \
                and len(before_user) >= len(system.prefix) + len(system.suffix):
            default = before_user[len(system.prefix): len(before_user) - len(system.suffix)]
            if default:
                return ChatLayout("", system, default_system=default, **layout)  # type: ignore[arg-type]
            return ChatLayout("", system, always_system=True, **layout)  # type: ignore[arg-type]
        if system.prefix.startswith(before_user):
            return ChatLayout(before_user, RoleBlock(system.prefix[len(before_user):], system.suffix),
                              **layout)  # type: ignore[arg-type]
        raise TemplateUntranslatable("the text before the first message depends on the system message")
    # the system message written inside a question: the first (Gemma) or the last (Mistral)
    head = before_user + user_block.prefix
    if not (t_su.startswith(head + _S) and t_su.endswith(_U + user_block.suffix)):
        raise TemplateUntranslatable("the system message is written neither on its own nor inside a question")
    sep = t_su[len(head) + len(_S): -len(_U + user_block.suffix)]
    into = "first" if t_suav.index(_S) < t_suav.index(_U) else "last"
    return ChatLayout(before_user, RoleBlock("", sep), system_into=into, **layout)  # type: ignore[arg-type]


def _go_text(text: str) -> str:
    # Go templates treat "{{" as an action; write such literal text as a quoted string action.
    return text.replace("{{", '{{ "{{" }}') if "{{" in text else text


def to_go_template(layout: ChatLayout) -> str:
    """The Ollama TEMPLATE for `layout`: every message in order, then the generation prompt."""
    def block(role: str, b: RoleBlock, keyword: str = "else if", content: str = "{{ .Content }}") -> str:
        return f'{{{{ {keyword} eq .Role "{role}" }}}}{_go_text(b.prefix)}{content}{_go_text(b.suffix)}'

    sep = _go_text(layout.system.suffix)
    if layout.system_into == "first":  # kept until the first question, then written inside it
        head, rng = '{{ $system := "" }}', "{{ range .Messages }}"
        system = '{{ if eq .Role "system" }}{{ $system = .Content }}'
        question = '{{ if $system }}{{ $system }}' + sep + '{{ $system = "" }}{{ end }}{{ .Content }}'
    elif layout.system_into == "last":  # written inside the question that ends the chat
        head, rng = "", "{{ range $i, $_ := .Messages }}"
        system = '{{ if eq .Role "system" }}'
        question = ('{{ if and $.System (eq (len (slice $.Messages $i)) 1) }}{{ $.System }}' + sep
                    + "{{ end }}{{ .Content }}")
    else:
        head, rng = "", "{{ range .Messages }}"
        system = block("system", layout.system, "if")
        question = "{{ .Content }}"
        if layout.always_system:  # the empty system block when the chat has no system message
            head = "{{ if not .System }}" + _go_text(layout.system.prefix + layout.system.suffix) + "{{ end }}"
    return (
        f"{_go_text(layout.start)}{head}{rng}" + system
        + block("user", layout.user, content=question)
        + block("assistant", layout.assistant)
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
_WORD = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\(|\)|[^\s()]+)')


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


def _words(expr: str) -> list[str]:
    return [w for w in _WORD.findall(expr) if w.strip()]


_FUNCS: dict[str, Callable[..., Any]] = {
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "not": lambda a: not a,
    "and": lambda *a: next((x for x in a if not x), a[-1]),
    "or": lambda *a: next((x for x in a if x), a[-1]),
    "len": len,
    "slice": lambda x, *i: x[i[0]: i[1]] if len(i) > 1 else x[i[0]:],
}


class _Scope:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.vars: dict[str, Any] = {"$": root}

    def value(self, words: list[str], dot: Any) -> Any:
        """Evaluate a pipeline-free Go template expression (a function call or one operand)."""
        args, pos = [], 0
        while pos < len(words):
            arg, pos = self._operand(words, pos, dot)
            args.append(arg)
        if words and words[0] in _FUNCS:
            return _FUNCS[words[0]](*args[1:])
        if len(args) != 1:
            raise ValueError(f"unsupported Go template expression: {' '.join(words)}")
        return args[0]

    def _operand(self, words: list[str], pos: int, dot: Any) -> tuple[Any, int]:
        w = words[pos]
        if w == "(":
            depth, end = 1, pos + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(words[end], 0)
                end += 1
            return self.value(words[pos + 1: end - 1], dot), end
        if w in _FUNCS:
            return w, pos + 1
        if w.startswith('"'):
            return json.loads(w), pos + 1
        if w.isdigit():
            return int(w), pos + 1
        if w.startswith("$"):
            name, _, field = w.partition(".")
            if name not in self.vars:
                raise ValueError(f"unsupported Go template expression: {w}")
            base = self.vars[name]
            return (base.get(field, "") if field else base), pos + 1
        if w.startswith("."):
            return (dot.get(w[1:], "") if w != "." else dot), pos + 1
        raise ValueError(f"unsupported Go template expression: {w}")


def render_go(template: str, messages: Sequence[Message], system: str | None = None) -> str:
    """Render `template` the way Ollama would for `messages`: text, ``range .Messages`` (or
    ``range $i, $_ := .Messages``), ``if`` / ``else if`` / ``else`` / ``end``, variables (``$x := ...``,
    ``$x = ...``), ``.Content``, ``$.System`` (the system messages, as Ollama collects them), string
    literals and the functions ``eq ne not and or len slice``."""
    items = [{"Role": m["role"], "Content": m["content"]} for m in messages]
    if system is None:
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    scope = _Scope({"Messages": items, "System": system})
    tokens = _tokens(template)

    def run(i: int, dot: Any, out: list[str] | None) -> tuple[int, str]:
        # Executes tokens from i until an unmatched else/end; returns (index of that token, its text).
        while i < len(tokens):
            kind, body = tokens[i]
            words = _words(body) if kind == "action" else []
            if kind == "text":
                if out is not None:
                    out.append(body)
                i += 1
            elif body == "end" or body.startswith("else"):
                return i, body
            elif words[0] == "range":
                index_name = words[1].rstrip(",") if len(words) > 3 and words[3] == ":=" else None
                listed = scope.value(words[4:] if index_name else words[1:], dot) if out is not None else []
                start = end = i + 1
                for n, item in enumerate(listed):
                    if index_name:
                        scope.vars[index_name] = n
                    end, _ = run(start, item, out)
                if out is None or not listed:
                    end, _ = run(start, dot, None)
                i = end + 1
            elif words[0] == "if":
                taken = out is not None and bool(scope.value(words[1:], dot))
                i, stop = run(i + 1, dot, out if taken else None)
                done = taken
                while stop.startswith("else"):
                    cond = _words(stop)[1:]
                    branch = out is not None and not done and (not cond or bool(scope.value(cond[1:], dot)))
                    i, stop = run(i + 1, dot, out if branch else None)
                    done = done or branch
                i += 1
            elif len(words) > 2 and words[0].startswith("$") and words[1] in (":=", "="):
                if out is not None:
                    scope.vars[words[0]] = scope.value(words[2:], dot)
                i += 1
            else:
                if out is not None:
                    out.append(str(scope.value(words, dot)))
                i += 1
        return i, ""

    out: list[str] = []
    run(0, scope.root, out)
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
