"""The task checks' arithmetic: pure functions from an answer and its reference to a number in 0..1.

Which check suits a run follows from its profile and its data (`metric_for`):

- **label accuracy** (classification): the answer must be one of the labels, and the right one;
- **normalized match** (short question answering): the answer equals the reference, or contains it
  as a whole phrase, after lowercasing and dropping punctuation, articles and extra spaces;
- **ROUGE-L** (summarization): the longest common subsequence of words, as an F-measure;
- **code parses** (code generation): the answer's code block parses (Python is compiled; other
  languages, detected from the fence or keywords, must at least balance their brackets);
- **reference similarity** (chat, instructions, writing): word-overlap F1 with the reference answer.

Example:
    >>> label_correct("Positive.", "positive", ("positive", "negative"))
    True
    >>> label_correct("It is a great film", "positive", ("positive", "negative"))
    False
    >>> normalized_match("The answer is Paris!", "paris")
    1.0
    >>> round(rouge_l("the cat sat on the mat", "the cat lay on the mat"), 3)
    0.833
    >>> code_parses("```python\\ndef f(:\\n```")
    (0.0, 'python')
"""

from __future__ import annotations

import ast
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence

from peftstudio.quality.report import ExampleChange, TaskCheck

LABEL_ACCURACY = "label accuracy"
NORMALIZED_MATCH = "normalized match"
ROUGE_L = "ROUGE-L"
CODE_PARSES = "code parses"
REFERENCE_SIMILARITY = "reference similarity"

#: The value of each metric that earns a task check full marks (free text never matches word for word).
FULL_MARKS: dict[str, float] = {LABEL_ACCURACY: 1.0, NORMALIZED_MATCH: 1.0, CODE_PARSES: 1.0,
                                ROUGE_L: 0.5, REFERENCE_SIMILARITY: 0.5}

SHORT_ANSWER_WORDS = 5  # references this short (median) are checked by normalized match
_ARTICLES = {"a", "an", "the"}
_PUNCT = set(string.punctuation) | {"¡", "¿", "«", "»", "“", "”", "’", "‘", "。", "，", "、", "！", "？", "：", "；"}


def _is_cjk(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af"


def words(text: str, *, drop_articles: bool = False) -> list[str]:
    """The words of `text`, lowercased, without punctuation; each CJK character is a word of its own.

    Example:
        >>> words("Arr! The capital be Rome, matey.")
        ['arr', 'the', 'capital', 'be', 'rome', 'matey']
        >>> words("答案是四。")
        ['答', '案', '是', '四']
    """
    text = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for raw in re.split(r"\s+", "".join(" " if c in _PUNCT else c for c in text)):
        piece = ""
        for ch in raw:
            if _is_cjk(ch):
                if piece:
                    out.append(piece)
                    piece = ""
                out.append(ch)
            else:
                piece += ch
        if piece:
            out.append(piece)
    return [w for w in out if not (drop_articles and w in _ARTICLES)]


def contains_phrase(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    """Whether the word sequence `needle` appears, whole words in order, in `haystack`.

    Example:
        >>> contains_phrase(["a", "cat", "has", "4", "legs"], ["4"]), contains_phrase(["14", "legs"], ["4"])
        (True, False)
    """
    n = len(needle)
    return n > 0 and any(list(haystack[i:i + n]) == list(needle) for i in range(len(haystack) - n + 1))


# ---------------------------------------------------------------- the metrics
def label_correct(answer: str, label: str, labels: Sequence[str]) -> bool:
    """Whether `answer` is one of `labels` (after normalizing) and is `label`.

    An answer outside the label set is wrong, even when it mentions the right label in a sentence.

    Example:
        >>> label_correct("NEGATIVE!", "negative", ["positive", "negative"])
        True
        >>> label_correct("mixed", "negative", ["positive", "negative"])  # not one of the labels
        False
        >>> label_correct("The review is negative", "negative", ["positive", "negative"])
        False
    """
    said = " ".join(words(answer))
    known = {" ".join(words(x)) for x in labels}
    return said in known and said == " ".join(words(label))


def normalized_match(answer: str, reference: str) -> float:
    """1.0 when the normalized answer equals the normalized reference or contains it as a phrase, else 0.0.

    Example:
        >>> normalized_match("It is the Eiffel Tower.", "eiffel tower"), normalized_match("14", "4")
        (1.0, 0.0)
    """
    said, ref = words(answer, drop_articles=True), words(reference, drop_articles=True)
    return 1.0 if ref and (said == ref or contains_phrase(said, ref)) else 0.0


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(answer: str, reference: str) -> float:
    """ROUGE-L F-measure: the longest common subsequence of words, against both lengths.

    Example:
        >>> round(rouge_l("a b c", "a c d e"), 3)  # LCS "a c": precision 2/3, recall 2/4
        0.571
        >>> rouge_l("x y", "a b")
        0.0
    """
    a, r = words(answer), words(reference)
    lcs = _lcs(a, r)
    if not lcs:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(r)
    return 2 * precision * recall / (precision + recall)


def token_f1(answer: str, reference: str) -> float:
    """Word-overlap F1 (bag of words) between an answer and its reference.

    Example:
        >>> round(token_f1("Arr! Rome be the capital, matey!", "Rome is the capital."), 2)
        0.6
    """
    a, r = Counter(words(answer)), Counter(words(reference))
    common = sum((a & r).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(r.values())
    return 2 * precision * recall / (precision + recall)


_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("python", r"^\s*(def |class |import |from \w+ import |print\(|for \w+ in |if __name__)"),
    ("sql", r"^\s*(select|insert|update|delete|create table|with)\b"),
    ("javascript", r"\b(function\s*\w*\(|const |let |=>|console\.log)"),
    ("bash", r"^\s*(#!/bin/(ba)?sh|echo |export |cd |ls )"),
    ("c", r"#include\s*<|\bint main\s*\("),
)
_ALIASES = {"py": "python", "python3": "python", "js": "javascript", "ts": "javascript", "typescript": "javascript",
            "sh": "bash", "shell": "bash", "zsh": "bash", "cpp": "c", "c++": "c", "postgresql": "sql"}


def code_block(answer: str) -> tuple[str, str]:
    """The code in an answer and its fence's language tag ("" when none): the first fenced block, else all.

    Example:
        >>> code_block("Here:\\n```py\\nx = 1\\n```\\nDone."), code_block("x = 1")
        (('x = 1\\n', 'py'), ('x = 1', ''))
    """
    found = _FENCE.search(answer)
    if found:
        return found.group(2), found.group(1).lower()
    return answer, ""


def detect_language(code: str, tag: str = "") -> str:
    """The language of a code block: its fence tag when given, else from keywords ("text" when unknown).

    Example:
        >>> detect_language("select name from users;"), detect_language("x = 1", "py")
        ('sql', 'python')
    """
    if tag:
        return _ALIASES.get(tag, tag)
    for language, pattern in _KEYWORDS:
        if re.search(pattern, code, re.I | re.M):
            return language
    return "text"


def _balanced(code: str) -> bool:
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    quote = ""
    for ch in code:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack and not quote


def code_parses(answer: str) -> tuple[float, str]:
    """(1.0 when the answer's code parses else 0.0, its detected language).

    Python is compiled (syntax only, nothing runs); other languages must balance brackets and quotes;
    an answer with no code at all ("text") does not parse.

    Example:
        >>> code_parses("```python\\ndef add(a, b):\\n    return a + b\\n```")
        (1.0, 'python')
        >>> code_parses("```sql\\nSELECT (1;\\n```"), code_parses("Sorry, I cannot.")
        ((0.0, 'sql'), (0.0, 'text'))
    """
    code, tag = code_block(answer)
    language = detect_language(code, tag)
    if not code.strip() or language == "text":
        return 0.0, language
    if language == "python":
        try:
            ast.parse(code)
        except (SyntaxError, ValueError):
            return 0.0, language
        return 1.0, language
    return (1.0 if _balanced(code) else 0.0), language


def metric_for(profile: str, references: Sequence[str], labels: Sequence[str] = ()) -> str:
    """The task check that suits a profile and its held-out references.

    Example:
        >>> metric_for("classification", ["positive"], ["positive", "negative"])
        'label accuracy'
        >>> metric_for("question-answering", ["Paris", "four"]), metric_for("chatbot", ["Hello there!"])
        ('normalized match', 'reference similarity')
    """
    if labels:
        return LABEL_ACCURACY
    if profile == "code-generation":
        return CODE_PARSES
    if profile == "summarization":
        return ROUGE_L
    if profile == "question-answering":
        lengths = sorted(len(words(r)) for r in references)
        if lengths and lengths[len(lengths) // 2] <= SHORT_ANSWER_WORDS:
            return NORMALIZED_MATCH
    return REFERENCE_SIMILARITY


def scorer(metric: str, labels: Sequence[str] = ()) -> Callable[[str, str], float]:
    """The function (answer, reference) -> 0..1 of a metric.

    Example:
        >>> scorer(LABEL_ACCURACY, ["yes", "no"])("No.", "no"), scorer(NORMALIZED_MATCH)("Paris!", "paris")
        (1.0, 1.0)
    """
    if metric == LABEL_ACCURACY:
        return lambda answer, reference: 1.0 if label_correct(answer, reference, labels) else 0.0
    if metric == NORMALIZED_MATCH:
        return normalized_match
    if metric == ROUGE_L:
        return rouge_l
    if metric == CODE_PARSES:
        return lambda answer, _reference: code_parses(answer)[0]
    return token_f1



def task_check(metric: str, prompts: Sequence[str], references: Sequence[str], base: Sequence[str],
               tuned: Sequence[str], *, labels: Sequence[str] = (), show: int = 3) -> TaskCheck:
    """Score the base and the tuned answers to held-out prompts; keep the `show` examples that changed most.

    Example:
        >>> t = task_check(LABEL_ACCURACY, ["great!", "awful"], ["positive", "negative"],
        ...                ["positive", "positive"], ["positive", "Negative."], labels=["positive", "negative"])
        >>> t.base, t.tuned, t.changed[0].prompt
        (0.5, 1.0, 'awful')
    """
    if not len(prompts) == len(references) == len(base) == len(tuned):
        raise ValueError("task_check needs one reference, base and tuned answer per prompt")
    score = scorer(metric, labels)
    rows = [ExampleChange(p, r, b, t, score(b, r), score(t, r))
            for p, r, b, t in zip(prompts, references, base, tuned, strict=True)]
    n = len(rows)
    language = ""
    if metric == CODE_PARSES and tuned:
        language = Counter(code_parses(t)[1] for t in tuned).most_common(1)[0][0]
    changed = sorted((r for r in rows if r.change), key=lambda r: -abs(r.change))[:show]
    return TaskCheck(metric, examples=n, base=round(sum(r.base_score for r in rows) / n, 4) if n else 0.0,
                     tuned=round(sum(r.tuned_score for r in rows) / n, 4) if n else 0.0,
                     changed=tuple(changed), language=language)


__all__ = ["CODE_PARSES", "FULL_MARKS", "LABEL_ACCURACY", "NORMALIZED_MATCH", "REFERENCE_SIMILARITY", "ROUGE_L",
           "code_block", "code_parses", "contains_phrase", "detect_language", "label_correct", "metric_for",
           "normalized_match", "rouge_l", "scorer", "task_check", "token_f1", "words"]
