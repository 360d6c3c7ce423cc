"""The retention check: does the tuned model still know what the base model knew?

A small bundled set (`retention.jsonl`, written for PEFT Studio) of general questions with known short
answers and simple instructions, in several languages, is asked to the base and the tuned model with
greedy decoding. An answer is right when it contains one of the accepted answers as whole words
("4" or "four" for a cat's legs; "14" does not count). What the base got right and the tuned got
wrong is "forgotten", what it got wrong and the tuned got right is "learned"; the forgotten answers are
listed for the user to read.

Greedy answers are a coarse measure: one answer flips with any change of the weights, so on a small
model (SmolLM2 knows about 16 of the 40) a gentle and an aggressive run can each forget 3 to 5, and a
one-row change of the data moves the count by as much. The flag therefore rests on a finer measure,
the **drift**: each question also has a statement with a blank and a few choices, the right one first
("A cat has {} legs.": four, two, six, eight). Both models score each completed statement by its
likelihood after the question; the shares of the choices (a softmax over their log-likelihoods) say
what each model believes, and the drift is the mean Kullback-Leibler divergence, in nats per question,
from the base model's shares to the tuned model's. It is continuous (every question counts a little,
none flips), cheap (no generation; the question is read once for all its statements) and blind to
style (a pirate's "Arr!" changes every choice alike). Measured on SmolLM2 (docs/quality.md): gentle
runs drifted 0.23 to 0.35, runs at five times the demo's learning rate or more 0.67 to 2.3.

A run is flagged for forgetting when its drift reaches `DRIFT_LIMIT`. Questions without a statement
(a user's own set) have no drift; there the answers decide: flagged when the tuned model forgot at least
`FORGET_MIN` answers, at least `FORGET_SHARE` of what the base knew, and more than it learned (a loss too
large to be churn).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from attrs import field, frozen

from peftstudio.quality.checks import contains_phrase, words
from peftstudio.quality.report import Forgotten, RetentionCheck
from peftstudio.tuples import as_tuple

FORGET_MIN = 2  # answers
FORGET_SHARE = 0.5  # of what the base model knew
DRIFT_LIMIT = 0.45  # nats per question: the drift at which a run is flagged


@frozen
class Question:
    """One bundled question with the answers accepted as right."""

    id: str
    language: str
    question: str
    accepted: tuple[str, ...] = field(converter=as_tuple)
    statement: str = ""  # the answer as a sentence with a blank ("A cat has {} legs."), for the drift
    choices: tuple[str, ...] = field(default=(), converter=as_tuple)  # what may fill it, the right one first

    def completions(self) -> tuple[str, ...]:
        """The statement completed with each choice (none when the question has no statement).

        Example:
            >>> Question("cat", "en", "Legs of a cat?", ("4",), "A cat has {} legs.", ("four", "six")).completions()
            ('A cat has four legs.', 'A cat has six legs.')
        """
        return tuple(self.statement.format(c) for c in self.choices) if self.statement else ()


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


def shares(log_likelihoods: Sequence[float]) -> list[float]:
    """What a model believes among a question's choices: the softmax of their log-likelihoods.

    Example:
        >>> [round(x, 3) for x in shares([-1.0, -1.0, -3.0])]
        [0.468, 0.468, 0.063]
    """
    top = max(log_likelihoods)
    weights = [math.exp(x - top) for x in log_likelihoods]
    total = sum(weights)
    return [w / total for w in weights]


def drift(base: Sequence[Sequence[float]], tuned: Sequence[Sequence[float]]) -> float:
    """The mean KL divergence (nats per question) from the base model's choice shares to the tuned model's,
    given each model's log-likelihood of every completed statement (one list per question, same order).

    Example:
        >>> drift([[-1.0, -2.0]], [[-1.0, -2.0]])  # the same beliefs: no drift
        0.0
        >>> round(drift([[-1.0, -3.0], [-2.0, -2.0]], [[-3.0, -1.0], [-2.0, -2.0]]), 3)  # one belief swapped
        0.762
    """
    if len(base) != len(tuned):
        raise ValueError("drift needs the base and the tuned likelihoods of the same questions")
    total = 0.0
    for b, t in zip(base, tuned, strict=True):
        p, q = shares(b), shares(t)
        total += sum(x * (math.log(x) - math.log(y)) for x, y in zip(p, q, strict=True) if x > 0)
    return round(total / len(base), 4) if base else 0.0


def retention_check(asked: Sequence[Question], base: Sequence[str], tuned: Sequence[str], *,
                    drift: float | None = None, drift_asked: int = 0) -> RetentionCheck:
    """Compare the base and the tuned answers to the same questions (in the same order).

    `drift` (see `drift`) is measured on `drift_asked` questions, which need not be the ones answered.

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
                          forgotten=forgotten, learned=learned, drift=drift, drift_asked=drift_asked)


def forgetting(check: RetentionCheck) -> bool:
    """Whether a run is flagged for forgetting (see the module docstring).

    Example:
        >>> lost = tuple(Forgotten(f"q{i}", ("a",), "a", "b") for i in range(5))
        >>> forgetting(RetentionCheck(asked=40, base_right=16, tuned_right=14, forgotten=lost, learned=3, drift=1.2))
        True
        >>> forgetting(RetentionCheck(asked=40, base_right=16, tuned_right=14, forgotten=lost, learned=3, drift=0.3))
        False
        >>> forgetting(RetentionCheck(asked=40, base_right=8, tuned_right=4, forgotten=lost, learned=1))  # no drift
        True
    """
    n = check.forgotten_count
    if check.drift is not None:
        return check.drift >= DRIFT_LIMIT
    return n >= FORGET_MIN and n >= FORGET_SHARE * check.base_right and n > check.learned


def forgetting_said(check: RetentionCheck) -> str:
    """What the retention check found, in a plain sentence (the flag's reason first).

    Example:
        >>> lost = tuple(Forgotten(f"q{i}", ("a",), "a", "b") for i in range(3))
        >>> forgetting_said(RetentionCheck(asked=40, base_right=16, tuned_right=14, forgotten=lost, learned=1,
        ...                                drift=1.2, drift_asked=40))  # doctest: +NORMALIZE_WHITESPACE
        "the tuned model's beliefs about general facts moved far from the base model's (drift 1.20 nats per
        question over 40; a gentle run stays under 0.45), and it forgot 3 of the 16 general answers the base model
        knew (and newly got 1 right)."
    """
    lost = (f"forgot {check.forgotten_count} of the {check.base_right} general answers the base model knew "
            f"(and newly got {check.learned} right).")
    if check.drift is not None and check.drift >= DRIFT_LIMIT:
        return (f"the tuned model's beliefs about general facts moved far from the base model's (drift "
                f"{check.drift:.2f} nats per question over {check.drift_asked}; a gentle run stays under "
                f"{DRIFT_LIMIT:g}), and it {lost}")
    return f"the tuned model {lost}"


__all__ = ["DRIFT_LIMIT", "FORGET_MIN", "FORGET_SHARE", "Question", "answer_right", "drift", "forgetting", "forgetting_said", "questions",
           "retention_check", "shares"]
