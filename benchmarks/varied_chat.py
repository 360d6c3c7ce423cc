"""A generated, seeded chat data set of varied length, as real chat data is: answers of log-normal length.

Questions are short; each answer's word count is drawn from a log-normal distribution (median 40 words,
sigma 0.9, so most answers are 10 to 150 words and a few run to several hundred), its words from the
corpus shipped with the package. The same seed gives the same file.

    .venv/bin/python benchmarks/varied_chat.py OUT.jsonl [--rows 240] [--seed 0]

Example:
    >>> rows = varied_chat(4, seed=1)
    >>> len(rows), rows[0]["messages"][1]["role"]
    (4, 'assistant')
"""

from __future__ import annotations

import argparse
import json
import math
import random
from importlib import resources
from pathlib import Path
from typing import Any

MEDIAN_WORDS = 40
SIGMA = 0.9
TOPICS = ("the sea", "a small garden", "training a model", "the moon", "a long train ride", "bread", "rain",
          "a city at night", "old maps", "bees", "the desert", "a violin", "chess", "winter", "a lighthouse")
ASKS = ("Tell me about {}.", "What should I know about {}?", "Write a few lines on {}.", "Explain {} simply.",
        "Why do people like {}?")


def _words() -> list[str]:
    text = resources.files("peftstudio.models").joinpath("tiny_corpus.txt").read_text(encoding="utf-8")
    return text.split()


def varied_chat(rows: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """`rows` chat examples (one question, one answer of log-normal length) for seed `seed`."""
    rng = random.Random(seed)
    words = _words()
    out = []
    for _ in range(rows):
        n = max(3, min(600, round(math.exp(rng.gauss(math.log(MEDIAN_WORDS), SIGMA)))))
        start = rng.randrange(len(words))
        answer = " ".join(words[(start + i) % len(words)] for i in range(n))
        question = rng.choice(ASKS).format(rng.choice(TOPICS))
        out.append({"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]})
    return out


def write(path: Path, rows: int, seed: int) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in varied_chat(rows, seed=seed)), encoding="utf-8")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    print(write(a.out, a.rows, a.seed))
