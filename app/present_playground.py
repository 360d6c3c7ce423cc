"""Words and values for the playground screen: answers, their timing, saved exchanges and the
generation settings typed into the "Advanced" fields (no decisions about the model are made here).

Example:
    >>> visible_text("Arr\\x04 matey")
    'Arr\ufffd matey'
    >>> parse_generation("temperature", "0,5")
    0.5
"""

from __future__ import annotations

import math
import time
import unicodedata
from typing import Any

#: The generation settings the Advanced expander offers, in order: key -> (label, plain explanation).
GENERATION_FIELDS: dict[str, tuple[str, str]] = {
    "temperature": ("Temperature", ("How adventurous the words are: 0 always picks the most likely word, "
                                    "1 or more is more surprising.")),
    "top_p": ("Top-p", "Only the most likely words that together make up this share are considered (0.9 = 90%)."),
    "max_new_tokens": ("Answer length", "The most tokens (word pieces) an answer may have."),
    "seed": ("Seed", "The same seed and settings give the same answer again."),
    "system_prompt": ("Instructions", "Optional text the model reads before every question, e.g. 'Answer briefly'."),
}

DEFAULT_GENERATION: dict[str, Any] = {"temperature": 0.7, "top_p": 0.9, "max_new_tokens": 64, "seed": 0,
                                      "system_prompt": ""}

#: Allowed ranges of the numeric settings: key -> (lowest, highest, whole numbers only).
LIMITS: dict[str, tuple[float, float, bool]] = {
    "temperature": (0.0, 2.0, False),
    "top_p": (0.05, 1.0, False),
    "max_new_tokens": (1, 1024, True),
    "seed": (0, 2**31 - 1, True),
}


class SettingProblem(ValueError):
    """A generation setting that cannot be used; the message is plain words for the screen."""


def parse_generation(key: str, text: Any) -> Any:
    """The value of generation setting `key` from what was typed; `SettingProblem` says what is wrong.

    Example:
        >>> parse_generation("max_new_tokens", " 32 ")
        32
        >>> try:
        ...     parse_generation("top_p", "2")
        ... except SettingProblem as problem:
        ...     print(problem)
        Top-p must be between 0.05 and 1.
    """
    if key not in GENERATION_FIELDS:
        raise SettingProblem(f"There is no setting called {key!r}.")
    if key == "system_prompt":
        return str(text).strip()
    label = GENERATION_FIELDS[key][0]
    low, high, whole = LIMITS[key]
    raw = str(text).strip().replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        raise SettingProblem(f"{label} must be a number, not {raw!r}.") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise SettingProblem(f"{label} must be between {_plain_number(low)} and {_plain_number(high)}.")
    if whole:
        if value != int(value):
            raise SettingProblem(f"{label} must be a whole number.")
        return int(value)
    return value


def _plain_number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def setting_text(value: Any) -> str:
    """A generation setting's value as it is shown in its field."""
    return _plain_number(value) if isinstance(value, float) else str(value)


def visible_text(text: str) -> str:
    """Text as a label can show it: control characters (that an untrained model may produce) become the
    replacement character, so an answer made of them is visibly odd rather than blank.

    Newlines and tabs stay.
    """
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co") else "\ufffd"
                   for ch in text)


def answer_stats(answer: Any) -> str:
    """``24 tokens in 1.9 s (12.6 tokens/s), first word after 0.4 s`` for a library `Answer`."""
    if answer is None:
        return ""
    speed = f" ({answer.tokens_per_second:.1f} tokens/s)" if answer.seconds > 0 else ""
    return (f"{answer.tokens} token{'s' if answer.tokens != 1 else ''} in {answer.seconds:.1f} s{speed}, "
            f"first word after {answer.first_token_seconds:.1f} s")


def when(timestamp: float, now: float | None = None) -> str:
    """How long ago, in plain words: ``just now``, ``5 min ago``, ``3 h ago``, else the date.

    Example:
        >>> when(1000.0, now=1030.0), when(1000.0, now=1000.0 + 3 * 3600)
        ('just now', '3 h ago')
    """
    age = (time.time() if now is None else now) - timestamp
    if age < 60:
        return "just now"
    if age < 3600:
        return f"{int(age // 60)} min ago"
    if age < 24 * 3600:
        return f"{int(age // 3600)} h ago"
    return time.strftime("%d %b %Y, %H:%M", time.localtime(timestamp))


def settings_summary(settings: Any) -> str:
    """The settings an answer was made with, short: ``temperature 0.7, top-p 0.9, up to 64 tokens``."""
    temp = "most likely words (temperature 0)" if settings.temperature <= 0 else \
        f"temperature {_plain_number(settings.temperature)}, top-p {_plain_number(settings.top_p)}"
    return f"{temp}, up to {settings.max_new_tokens} tokens, seed {settings.seed}"


def exchange_row(exchange: Any, now: float | None = None) -> dict[str, Any]:
    """A saved `Exchange` as the history list shows it (plain values only)."""
    return {
        "id": int(exchange.id),
        "prompt": visible_text(exchange.prompt),
        "tuned": visible_text(exchange.tuned.text) if exchange.tuned is not None else "",
        "base": visible_text(exchange.base.text) if exchange.base is not None else "",
        "tuned_stats": answer_stats(exchange.tuned),
        "base_stats": answer_stats(exchange.base) if exchange.base is not None else "The base model was not asked.",
        "when": when(exchange.time, now),
        "settings": settings_summary(exchange.settings),
    }
