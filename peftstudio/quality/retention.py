"""The retention check: does the tuned model still know what the base model knew?

A small bundled set (`retention.jsonl`, written for PEFT Studio) of general questions with known short
answers and simple instructions, in several languages, is asked to the base and the tuned model with
greedy decoding. An answer is right when it contains one of the accepted answers as whole words
("4" or "four" for a cat's legs; "14" does not count). What the base got right and the tuned got
wrong is "forgotten", what it got wrong and the tuned got right is "learned". A run is flagged for
forgetting when it forgot at least `FORGET_MIN` answers and at least `FORGET_SHARE` of what the base
knew, and more than it learned: greedy answers flip both ways with any change of the weights, so a run
whose answers only churn (as many learned as forgotten) is not flagged; its forgotten answers are listed
all the same.

Example:
    >>> qs = (Question("cat", "en", "How many legs does a cat have?", ("4", "four")),)
    >>> check = retention_check(qs, ["A cat has four legs."], ["Arr! A cat has five legs, me hearty!"])
    >>> check.forgotten_count, check.forgotten[0].tuned
    (1, 'Arr! A cat has five legs, me hearty!')
    >>> answer_right("Arr! Four legs, matey!", ("4", "four"))
    True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from attrs import field, frozen

from peftstudio.quality.checks import contains_phrase, words
from peftstudio.quality.report import Forgotten, RetentionCheck
from peftstudio.tuples import as_tuple

FORGET_MIN = 2  # answers
FORGET_SHARE = 0.25  # of what the base model knew


@frozen
class Question:
    """One bundled question with the answers accepted as right."""

    id: str
    language: str
    question: str
    accepted: tuple[str, ...] = field(converter=as_tuple)


@lru_cache(maxsize=1)
def questions() -> tuple[Question, ...]:
    """The bundled retention questions.

    Example:
        >>> len(questions()) >= 30, len({q.language for q in questions()}) >= 5
        (True, True)
    """
    text = resources.files("peftstudio.quality").joinpath("retention.jsonl").read_text(encoding="utf-8")
    return tuple(Question(**json.loads(line)) for line in text.splitlines() if line.strip())


def answer_right(answer: str, accepted: Sequence[str]) -> bool:
    """Whether `answer` contains one of the `accepted` answers as whole words (case and punctuation ignored).

    Example:
        >>> answer_right("Arr! A cat has FOUR legs, matey!", ("4", "four")), answer_right("14 legs", ("4", "four"))
        (True, False)
    """
    said = words(answer)
    return any(contains_phrase(said, words(a)) for a in accepted)


def retention_check(asked: Sequence[Question], base: Sequence[str], tuned: Sequence[str]) -> RetentionCheck:
    """Compare the base and the tuned answers to the same questions (in the same order).

    Example:
        >>> qs = [Question("paris", "en", "Capital of France?", ("Paris",)), Question("sky", "en", "Sky colour?", ("blue",))]
        >>> c = retention_check(qs, ["Paris.", "Green."], ["Arr, Lyon!", "Blue!"])
        >>> c.base_right, c.tuned_right, c.forgotten_count, c.learned
        (1, 1, 1, 1)
    """
    if not len(asked) == len(base) == len(tuned):
        raise ValueError("retention_check needs one base and one tuned answer per question")
    base_ok = [answer_right(a, q.accepted) for q, a in zip(asked, base, strict=True)]
    tuned_ok = [answer_right(a, q.accepted) for q, a in zip(asked, tuned, strict=True)]
    forgotten = tuple(Forgotten(q.question, q.accepted, b, t)
                      for q, b, t, was, now in zip(asked, base, tuned, base_ok, tuned_ok, strict=True)
                      if was and not now)
    learned = sum(1 for was, now in zip(base_ok, tuned_ok, strict=True) if now and not was)
    return RetentionCheck(asked=len(asked), base_right=sum(base_ok), tuned_right=sum(tuned_ok),
                          forgotten=forgotten, learned=learned)


def forgetting(check: RetentionCheck) -> bool:
    """Whether a run is flagged for forgetting (see the module docstring).

    Example:
        >>> lost = tuple(Forgotten(f"q{i}", ("a",), "a", "b") for i in range(5))
        >>> forgetting(RetentionCheck(asked=40, base_right=16, tuned_right=14, forgotten=lost, learned=3))
        True
        >>> forgetting(RetentionCheck(asked=40, base_right=16, tuned_right=16, forgotten=lost, learned=5))
        False
        >>> forgetting(RetentionCheck(asked=40, base_right=16, tuned_right=14, forgotten=lost[:3], learned=1))
        False
    """
    n = check.forgotten_count
    return n >= FORGET_MIN and n >= FORGET_SHARE * check.base_right and n > check.learned


__all__ = ["FORGET_MIN", "FORGET_SHARE", "Question", "answer_right", "forgetting", "questions", "retention_check"]
