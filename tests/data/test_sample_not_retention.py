"""The demo's sample data teaches a voice, not the facts the retention check asks: a sample that taught
them would hide what a run forgot (issue 20)."""

from __future__ import annotations

import json
import re

from peftstudio.data import sample_path
from peftstudio.quality.retention import questions

FILLER = {"what", "which", "is", "the", "a", "an", "of", "are", "there", "in", "how", "does", "do", "many",
          "quick", "question", "tell", "me", "you", "can", "please", "on"}


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[\w+]+", text.lower()) if w not in FILLER)


def test_no_sample_question_is_a_retention_question() -> None:
    asked = {q.id: content_words(q.question) for q in questions()}
    same = []
    for line in sample_path("pirate_chat.jsonl").read_text(encoding="utf-8").splitlines():
        user = json.loads(line)["messages"][0]["content"]
        words = content_words(user)
        for qid, theirs in asked.items():
            if len(words & theirs) / len(words | theirs) >= 0.75:
                same.append((user, qid))
    assert not same, same


def test_the_sample_teaches_general_knowledge_beyond_the_demos_kinds_of_question() -> None:
    users = [json.loads(line)["messages"][0]["content"]
             for line in sample_path("pirate_chat.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "Who painted the Mona Lisa?" in users and len(users) >= 300
