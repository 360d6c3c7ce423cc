"""Rendering an example exactly as the model sees it, and which part of it is trained on.

Chat examples go through the tokenizer's own chat template. The trained part
of each assistant turn is found by rendering the conversation up to just before
that turn (with the generation prompt) and up to just after it: the text in
between is the answer plus the template's end-of-turn marker, so the model
learns to stop. Everything else (system, user turns, template markers) is
masked out of the loss (label -100). Text-only examples are trained on whole.
A tokenizer without a chat template gets a plain ``### User:`` layout.

Example:
    >>> from peftstudio.data.detect import Example
    >>> text, spans = render(Example((("user", "Hi"), ("assistant", "Hello"))), None)
    >>> [text[s.start:s.end] for s in spans if s.trained]
    ['Hello\\n']
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from peftstudio.data.detect import Example

IGNORE_INDEX = -100


@frozen
class Span:
    """Characters ``[start, end)`` of a rendered example; `trained` when they count in the loss."""

    start: int
    end: int
    trained: bool


def _has_template(tokenizer: Any) -> bool:
    return tokenizer is not None and bool(getattr(tokenizer, "chat_template", None))


def _apply(tokenizer: Any, messages: list[dict[str, str]], generation: bool = False) -> str:
    return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation))


def _plain(example: Example, eos: str) -> tuple[str, list[tuple[int, int]]]:
    parts: list[str] = []
    trained: list[tuple[int, int]] = []
    pos = 0
    for role, content in example.turns:
        head = f"### {role.capitalize()}:\n"
        body = content + (eos if role == "assistant" else "") + "\n\n"
        parts += [head, body]
        pos += len(head)
        if role == "assistant":
            trained.append((pos, pos + len(body) - 1))
        pos += len(body)
    return "".join(parts), trained


def _spans(text: str, trained: list[tuple[int, int]]) -> tuple[Span, ...]:
    out: list[Span] = []
    pos = 0
    for start, end in trained:
        if start > pos:
            out.append(Span(pos, start, False))
        if end > start:
            out.append(Span(start, end, True))
        pos = max(pos, end)
    if pos < len(text):
        out.append(Span(pos, len(text), False))
    return tuple(out)


def render(example: Example, tokenizer: Any) -> tuple[str, tuple[Span, ...]]:
    """The text the model sees for `example` and its trained/masked spans (in order, covering the text)."""
    eos = str(getattr(tokenizer, "eos_token", None) or "") if tokenizer is not None else ""
    if example.text_only:
        text = example.turns[0][1] + eos
        return text, (Span(0, len(text), True),)
    if not _has_template(tokenizer):
        text, trained = _plain(example, eos)
        return text, _spans(text, trained)
    messages = [{"role": r, "content": c} for r, c in example.turns]
    full = _apply(tokenizer, messages)
    trained = []
    cursor = 0
    for i, (role, content) in enumerate(example.turns):
        if role != "assistant":
            continue
        before = _apply(tokenizer, messages[:i], generation=True) if i else ""
        upto = _apply(tokenizer, messages[: i + 1])
        span = _answer_span(full, before, upto, content, cursor)
        if span is None:
            continue
        start, end = span
        # The turn's own closing, as the template writes it when another turn follows: what the last turn
        # gets beyond it (Phi's eos at the very end of a conversation) is no part of the answer.
        core = content.split("</think>")[-1].strip()
        followed = _followed(tokenizer, messages[: i + 1])
        if followed is not None and followed.startswith(full[:start]):
            bound = start + _common_prefix(full[start:], followed[start:])
            if core in full[start:bound]:  # a template that renders the turn otherwise when followed: ignore
                end = min(end, bound)
        # Trailing newlines after the end-of-turn marker are layout, not something to learn.
        while end > start and full[end - 1] == "\n" and core in full[start:end - 1]:
            end -= 1
        trained.append((start, end))
        cursor = end
    return full, _spans(full, trained)


def _followed(tokenizer: Any, messages: list[dict[str, str]]) -> str | None:
    """The conversation with one more user turn after it (None when the template refuses that)."""
    try:
        return _apply(tokenizer, [*messages, {"role": "user", "content": "\u2063"}])
    except Exception:  # noqa: BLE001 - templates raise their own errors for shapes they do not accept
        return None


def _common_prefix(a: str, b: str, keep: int = 0) -> int:
    """Length of the shared start of `a` and `b`; when they part inside a marker (``<|end|>`` against
    ``<|user|>`` share ``<|``), cut back to the last marker or line end, but never below `keep`."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    if n < len(b):
        while n > keep and a[n - 1] not in "\n>]":
            n -= 1
    return n


def _answer_span(full: str, before: str, upto: str, content: str, cursor: int) -> tuple[int, int] | None:
    """Where one assistant turn's answer, with the template's end-of-turn marker, lies in `full`.

    `before` is the conversation up to the turn with the generation prompt, `upto` the conversation ending
    with it. Usually `full` continues both, and the answer runs from the end of `before` as far as `upto`
    and `full` agree (a template that ends the conversation differently, e.g. with an extra eos, keeps
    only the shared end-of-turn marker). Templates that render a turn differently when it is the last one
    (Qwen3 drops earlier turns' reasoning; Phi adds eos at the very end) are handled by finding the answer
    text itself in `full` and extending it by the end-of-turn marker `upto` puts after it.
    """
    answer = content.strip()
    if full.startswith(before) and upto.startswith(before) and len(before) >= cursor:
        start = len(before)
        end = start + _common_prefix(full[start:], upto[start:], keep=len(answer))
        if answer.split("</think>")[-1].strip() in full[start:end]:  # the reasoning may be laid out anew
            return start, end
    for text in (content, answer, content.split("</think>")[-1].strip()):  # reasoning dropped by the template
        if not text:
            continue
        found = full.find(text, cursor)
        if found < 0:
            continue
        end = found + len(text)
        in_upto = upto.rfind(text)
        if in_upto >= 0:
            end += _common_prefix(full[end:], upto[in_upto + len(text):])
        return found, end
    return None


def generation_prompt(tokenizer: Any, messages: list[dict[str, str]], *, completion: bool = False) -> str:
    """The text a model continues to answer `messages`, laid out as it was trained.

    With a chat template: the template with its generation prompt. Without one (a base model): the plain
    ``### User:`` layout that `render` trains on, up to ``### Assistant:``. With `completion` (a run trained
    on plain text): the last user message itself, for the model to continue.

    Example:
        >>> generation_prompt(None, [{"role": "user", "content": "Hi"}])
        '### User:\\nHi\\n\\n### Assistant:\\n'
        >>> generation_prompt(None, [{"role": "user", "content": "Once upon a time"}], completion=True)
        'Once upon a time'
    """
    if completion:
        return next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    if _has_template(tokenizer):
        return _apply(tokenizer, messages, generation=True)
    return "".join(f"### {m['role'].capitalize()}:\n{m['content']}\n\n" for m in messages) + "### Assistant:\n"


def stop_ids(tokenizer: Any) -> list[int]:
    """Token ids that end an answer: the tokenizer's end-of-sequence token and, with a chat template, the
    end-of-turn marker the template writes after an answer (what `render` trains the model to emit), when
    that marker is one token of its own. Gemma's tokenizer ends sequences with ``<eos>`` but turns with
    ``<end_of_turn>``: generation stopping at ``<eos>`` alone runs on past the answer.

    Example:
        >>> stop_ids(None)
        []
    """
    if tokenizer is None:
        return []
    eos = getattr(tokenizer, "eos_token_id", None)
    ids = [eos] if isinstance(eos, int) else []
    if not _has_template(tokenizer):
        return ids
    answer = "\u2063"  # a character no template writes itself
    text, spans = render(Example((("user", "Hi"), ("assistant", answer))), tokenizer)
    trained = next((text[s.start:s.end] for s in spans if s.trained), "")
    marker = trained.split(answer, 1)[-1].strip()
    if marker:
        first = list(tokenizer(marker, add_special_tokens=False)["input_ids"])[:1]
        added = set(tokenizer.get_added_vocab().values()) if hasattr(tokenizer, "get_added_vocab") else set()
        if first and first[0] in added and first[0] not in ids:
            ids.append(first[0])
    return ids


def prompt_ids(tokenizer: Any, messages: list[dict[str, str]], *, completion: bool = False) -> list[int]:
    """Token ids of `generation_prompt`: a completion gets the tokenizer's own start token (as plain-text
    training does), a chat prompt none beyond what its template writes (as chat training does)."""
    text = generation_prompt(tokenizer, messages, completion=completion)
    return list(tokenizer(text, add_special_tokens=completion)["input_ids"])


def tokenize(example: Example, tokenizer: Any) -> tuple[list[int], list[int]]:
    """``(input_ids, labels)`` for `example`: labels are the ids in trained spans and -100 elsewhere."""
    text, spans = render(example, tokenizer)
    if example.text_only:
        ids = list(tokenizer(text, add_special_tokens=True)["input_ids"])
        return ids, list(ids)
    trained = [(s.start, s.end) for s in spans if s.trained]
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        labels = [
            tok if any(a <= start < b for a, b in trained) else IGNORE_INDEX
            for tok, (start, _end) in zip(ids, enc["offset_mapping"], strict=True)
        ]
        return ids, labels
    ids, labels = [], []
    for span in spans:  # slow tokenizers have no offsets: tokenize span by span
        piece = list(tokenizer(text[span.start:span.end], add_special_tokens=False)["input_ids"])
        ids += piece
        labels += piece if span.trained else [IGNORE_INDEX] * len(piece)
    return ids, labels


def count_tokens(texts: list[str], tokenizer: Any) -> list[int]:
    """Token counts of rendered texts, in one batch call (fast tokenizers work in parallel)."""
    if not texts:
        return []
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def estimate_tokens(example: Example, text: str | None = None) -> int:
    """A tokenizer-free estimate: about 4 characters per token plus a few tokens of markup per turn.

    `text` is `example.text` when the caller already has it (saves joining the turns again).
    """
    n = len(example.turns)
    return (len(example.text if text is None else text) - n + 1) // 4 + 5 * n + 1


__all__ = ["IGNORE_INDEX", "Span", "count_tokens", "estimate_tokens", "generation_prompt", "prompt_ids", "render",
           "stop_ids", "tokenize"]
