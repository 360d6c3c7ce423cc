"""Structure detection and conversion of any row into chat messages.

Seven structures are known (`STRUCTURES`): chat messages, ShareGPT
conversations, Alpaca, prompt/completion, question/answer, classification and
text only. Column names are matched ignoring case, spaces and punctuation, and
through synonyms (`SYNONYMS`); a user-given mapping (role -> column) wins.

Every usable row becomes an `Example`: a tuple of ``(role, content)`` turns
(roles ``system``, ``user``, ``assistant``), or, for text-only data, one text
that is trained on whole.

Example:
    >>> s = detect_structure([{"Instruction": "Add 2 and 2", "Output": "4"}])
    >>> s.name, s.columns
    ('alpaca', {'instruction': 'Instruction', 'output': 'Output'})
    >>> to_example({"Instruction": "Add 2 and 2", "Output": "4"}, s).example.turns
    (('user', 'Add 2 and 2'), ('assistant', '4'))
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple

from peftstudio.data.findings import Structure

# structure -> (required roles, optional roles), in the order detection tries them
STRUCTURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "chat": (("messages",), ()),
    "sharegpt": (("conversations",), ()),
    "alpaca": (("instruction", "output"), ("input", "system")),
    "prompt_completion": (("prompt", "completion"), ("system",)),
    "question_answer": (("question", "answer"), ("context", "system")),
    "classification": (("text", "label"), ()),
    "text": (("text",), ()),
}

#: role -> accepted column names (compared lower-case, without spaces and punctuation)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "messages": ("messages", "message", "chat", "dialog", "dialogue", "turns", "conversation", "conversations"),
    "conversations": ("conversations", "conversation", "messages", "chat", "dialog", "dialogue", "turns"),
    "instruction": ("instruction", "instructions", "task"),
    "input": ("input", "inputs"),
    "output": ("output", "outputs", "response", "answer"),
    "prompt": ("prompt", "prompts", "query", "request", "source", "user", "human"),
    "completion": ("completion", "completions", "response", "reply", "target", "assistant", "bot", "output"),
    "question": ("question", "questions", "q", "query"),
    "answer": ("answer", "answers", "a", "response", "reply"),
    "context": ("context", "passage"),
    "text": ("text", "texts", "content", "document", "body", "sentence", "passage", "review", "story"),
    "label": ("label", "labels", "class", "category", "sentiment", "tag", "target"),
    "system": ("system", "systemprompt", "systemmessage"),
}

_ROLE_NAMES = {
    "system": "system", "user": "user", "human": "user", "prompter": "user", "usr": "user", "question": "user",
    "assistant": "assistant", "gpt": "assistant", "bot": "assistant", "model": "assistant", "ai": "assistant",
    "chatgpt": "assistant", "answer": "assistant",
}
_TURN_ROLE_KEYS = ("role", "from", "speaker", "author")
_TURN_CONTENT_KEYS = ("content", "value", "text", "message")
_NORM_KEY = re.compile(r"[^0-9a-z]+")


def _norm(name: str) -> str:
    return _NORM_KEY.sub("", str(name).lower())


_content = itemgetter(1)  # (a turn's content)


class Example(NamedTuple):
    """One training example: chat turns, or (``text_only``) a single text trained on whole."""

    turns: tuple[tuple[str, str], ...]
    text_only: bool = False
    label: str | None = None

    @property
    def text(self) -> str:
        """All contents joined: what duplicate and length checks look at."""
        return "\n".join(map(_content, self.turns))


class Converted(NamedTuple):
    """`to_example`'s answer: an example, or the finding code (and detail) that stops the row."""

    example: Example | None
    problem: str | None = None
    detail: str = ""


def _match_columns(keys: Iterable[str], roles: tuple[str, ...]) -> dict[str, str] | None:
    by_norm: dict[str, str] = {}
    for key in keys:
        by_norm.setdefault(_norm(key), key)
    found: dict[str, str] = {}
    for role in roles:
        for synonym in SYNONYMS[role]:
            column = by_norm.get(synonym)
            if column is not None and column not in found.values():
                found[role] = column
                break
        else:
            return None
    return found


def _optional_columns(keys: Iterable[str], roles: tuple[str, ...], taken: dict[str, str]) -> dict[str, str]:
    extra: dict[str, str] = {}
    for role in roles:
        match = _match_columns([k for k in keys if k not in taken.values()], (role,))
        if match:
            extra.update(match)
    return extra


def classify_row(value: Any) -> Structure | None:
    """The structure one row has by itself (None when no structure fits).

    Example:
        >>> classify_row({"prompt": "Hi", "completion": "Hello"}).name
        'prompt_completion'
    """
    if isinstance(value, str):
        return Structure("text", {}, 1.0)
    if not isinstance(value, dict) or not value:
        return None
    keys = list(value)
    for name, (required, optional) in STRUCTURES.items():
        if name == "sharegpt":
            continue  # decided together with chat, by the turns' keys
        columns = _match_columns(keys, required)
        if columns is None:
            continue
        if name == "chat":
            turns = value[columns["messages"]]
            if not isinstance(turns, list):
                continue
            if turns and isinstance(turns[0], dict) and "from" in turns[0] and "role" not in turns[0]:
                return Structure("sharegpt", {"conversations": columns["messages"]},
                                 _confidence(columns, "conversations"))
            return Structure("chat", columns, _confidence(columns, "messages"))
        columns.update(_optional_columns(keys, optional, columns))
        return Structure(name, columns, _confidence(columns))
    strings = [k for k, v in value.items() if isinstance(v, str)]
    if len(strings) == 1 and len(value) == 1:
        return Structure("text", {"text": strings[0]}, 0.5)
    return None


def _confidence(columns: Mapping[str, str], canonical: str | None = None) -> float:
    exact = all(_norm(col) == (canonical or role) for role, col in columns.items())
    return 1.0 if exact else 0.9


def structure_from_mapping(mapping: Mapping[str, str], name: str | None = None) -> Structure:
    """The structure a user's role -> column mapping describes (or the named one, with that mapping).

    Example:
        >>> structure_from_mapping({"prompt": "Frage", "completion": "Antwort"}).name
        'prompt_completion'
    """
    if name is None:
        roles = set(mapping)
        fits = [n for n, (req, _) in STRUCTURES.items() if set(req) <= roles]
        name = max(fits, key=lambda n: len(STRUCTURES[n][0])) if fits else "unknown"
    return Structure(name, dict(mapping), 1.0)


def detect_structure(rows: Iterable[Any], *, mapping: Mapping[str, str] | None = None,
                     name: str | None = None) -> Structure:
    """The structure most of `rows` have, with its columns and the share of rows that fit as confidence.

    `mapping` (role -> column) and `name` override detection. With no fitting row the name is ``unknown``.
    """
    if mapping:
        return structure_from_mapping(mapping, name)
    votes: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    scores: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    total = 0
    for value in rows:
        total += 1
        found = classify_row(value)
        if found is None or (name is not None and found.name != name):
            continue
        key = (found.name, tuple(sorted(found.columns.items())))
        votes[key] += 1
        scores[key] = found.confidence
    if not votes:
        return Structure("unknown", {}, 0.0)
    (best_name, columns), count = votes.most_common(1)[0]
    confidence = round(scores[(best_name, columns)] * count / max(total, 1), 3)
    return Structure(best_name, dict(columns), confidence)


# ---------------------------------------------------------------- conversion

def _text_field(value: Any, column: str, required: bool = True) -> tuple[str | None, str | None, str]:
    if column not in value or value[column] is None:
        return None, ("missing_field" if required else None), column
    field = value[column]
    if isinstance(field, bool) or not isinstance(field, (str, int, float)):
        return None, "wrong_field_type", f"{column} should be text"
    text = field if isinstance(field, str) else str(field)
    if required and not text.strip():
        return None, "empty_field", column
    return text, None, ""


# Tuples built without a NamedTuple's own __new__ (Python code): the conversion runs for every row of a file.
_new = tuple.__new__


def _chat_row(column: str, value: Any) -> Converted:
    """`to_example` of a row of chat turns in `column`."""
    if not isinstance(value, dict):
        return Converted(None, "wrong_row_type", "it is not an object")
    if column not in value:
        return Converted(None, "missing_field", column)
    turns = value[column]
    if not isinstance(turns, list):
        return Converted(None, "wrong_field_type", f"{column} should be a list of turns")
    if not turns:
        return Converted(None, "empty_field", column)
    out: list[tuple[str, str]] = []
    for turn in turns:
        try:  # the common spelling, taken in one go
            role, content = _ROLE_NAMES[turn["role"]], turn["content"]
            plain = content.__class__ is str and content and not content.isspace()
        except (KeyError, TypeError):
            plain = False
        if not plain:
            one = _turn(turn, column)
            if isinstance(one, Converted):
                return one
            role, content = one
        out.append((role, content))
    if len(out) == 2 and out[0][0] == "user" and out[1][0] == "assistant":
        return _new(Converted, (_new(Example, (tuple(out), False, None)), None, ""))  # the common single exchange
    problem = turn_order_problem([r for r, _ in out])
    if problem is not None:
        code, detail = problem
        return Converted(None, code, detail)
    return _new(Converted, (_new(Example, (tuple(out), False, None)), None, ""))


def _turn(turn: Any, column: str) -> tuple[str, str] | Converted:
    """(role, content) of one turn in any accepted spelling, or the problem that stops its row."""
    if not isinstance(turn, dict):
        return Converted(None, "wrong_field_type", f"each turn in {column} should be an object")
    role_raw = turn.get("role")
    if role_raw is None:
        role_raw = next((turn[k] for k in _TURN_ROLE_KEYS if k in turn), None)
    content = turn.get("content")
    if content is None:
        content = next((turn[k] for k in _TURN_CONTENT_KEYS if k in turn), None)
    if role_raw is None:
        return Converted(None, "missing_field", "role")
    if content is None:
        return Converted(None, "missing_field", "content")
    if content.__class__ is not str:
        return Converted(None, "wrong_field_type", "content should be text")
    role = _ROLE_NAMES.get(role_raw) if role_raw.__class__ is str else None
    if role is None and isinstance(role_raw, str):
        role = _ROLE_NAMES.get(_norm(role_raw))
    if role is None:
        return Converted(None, "role_order", f"unknown role {str(role_raw)[:30]!r}")
    if not content or content.isspace():
        return Converted(None, "empty_field", f"{role} content")
    return role, content


def turn_order_problem(roles: list[str]) -> tuple[str, str] | None:
    """What is wrong with a sequence of roles for a chat model, or None.

    Example:
        >>> turn_order_problem(["user", "user", "assistant"])
        ('role_order', 'two user turns in a row')
        >>> turn_order_problem(["system", "user"])
        ('missing_assistant', '')
    """
    if "assistant" not in roles:
        return "missing_assistant", ""
    body = roles[1:] if roles and roles[0] == "system" else roles
    if "system" in body:
        return "role_order", "a system turn after the start"
    if body[0] != "user":
        return "role_order", "it starts with the assistant"
    for a, b in itertools.pairwise(body):
        if a == b:
            return "role_order", f"two {a} turns in a row"
    if body[-1] != "assistant":
        return "role_order", "it ends with a user turn"
    return None


def _chat_column(columns: Mapping[str, str]) -> str:
    return columns.get("messages") or columns.get("conversations") or "messages"


def converter(structure: Structure) -> Callable[[Any], Converted]:
    """`to_example` for one structure, decided once: what a check calls for every row of a file.

    Example:
        >>> convert = converter(Structure("chat", {"messages": "messages"}, 1.0))
        >>> convert({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey"}]})
        Converted(example=Example(turns=(('user', 'Hi'), ('assistant', 'Hey')), text_only=False, label=None), \
problem=None, detail='')
    """
    if structure.name in ("chat", "sharegpt"):
        return partial(_chat_row, _chat_column(structure.columns))
    return partial(to_example, structure=structure)


def to_example(value: Any, structure: Structure) -> Converted:
    """Turn one row into an `Example` (or the problem that stops it) for the given structure."""
    name, cols = structure.name, structure.columns
    if name == "text" and isinstance(value, str):
        if not value.strip():
            return Converted(None, "empty_field", "text")
        return Converted(Example((("user", value),), text_only=True))
    if not isinstance(value, dict):
        return Converted(None, "wrong_row_type", "it is not an object")
    if name in ("chat", "sharegpt"):
        return _chat_row(_chat_column(cols), value)
    required, optional = STRUCTURES.get(name, ((), ()))
    fields: dict[str, str] = {}
    for role in required:
        text, problem, detail = _text_field(value, cols.get(role, role))
        if problem is not None:
            return Converted(None, problem, detail)
        fields[role] = text  # type: ignore[assignment]
    for role in optional:
        if role in cols:
            text, problem, detail = _text_field(value, cols[role], required=False)
            if problem is not None:
                return Converted(None, problem, detail)
            if text and text.strip():
                fields[role] = text
    system = (("system", fields["system"]),) if "system" in fields else ()
    if name == "text":
        return Converted(Example((("user", fields["text"]),), text_only=True))
    if name == "alpaca":
        prompt = fields["instruction"] + (f"\n\n{fields['input']}" if "input" in fields else "")
        return Converted(Example((*system, ("user", prompt), ("assistant", fields["output"]))))
    if name == "prompt_completion":
        return Converted(Example((*system, ("user", fields["prompt"]), ("assistant", fields["completion"]))))
    if name == "question_answer":
        prompt = (f"{fields['context']}\n\n" if "context" in fields else "") + fields["question"]
        return Converted(Example((*system, ("user", prompt), ("assistant", fields["answer"]))))
    if name == "classification":
        label = fields["label"].strip()
        return Converted(Example((("user", fields["text"]), ("assistant", label)), label=label))
    return Converted(None, "unknown_structure", "")


__all__ = [
    "STRUCTURES", "SYNONYMS", "Converted", "Example", "classify_row", "converter", "detect_structure",
    "structure_from_mapping", "to_example", "turn_order_problem",
]
