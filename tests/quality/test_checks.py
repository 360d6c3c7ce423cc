"""The checks' arithmetic against hand-made cases: labels, matches, ROUGE-L, code, retention, the score."""

from __future__ import annotations

import math

import attrs
import pytest

from peftstudio.quality import (
    FORGETTING_CAP,
    ChecksReport,
    RunNumbers,
    code_parses,
    forgetting,
    label_correct,
    metric_for,
    normalized_match,
    retention_check,
    rouge_l,
    score,
    task_check,
    token_f1,
)
from peftstudio.quality.retention import Question, answer_right, forgetting_said, questions

LABELS = ("positive", "negative", "neutral")


@pytest.mark.parametrize("answer, right", [
    ("positive", True), ("Positive.", True), ("  POSITIVE!  ", True),
    ("negative", False),  # a label, the wrong one
    ("great", False),  # outside the label set: wrong
    ("The sentiment is positive", False),  # a sentence, not a label
    ("", False),
])
def test_label_accuracy_counts_only_the_right_label(answer: str, right: bool) -> None:
    assert label_correct(answer, "positive", LABELS) is right


def test_a_label_outside_the_label_set_is_wrong_in_the_task_check() -> None:
    t = task_check("label accuracy", ["a", "b", "c", "d"], ["positive", "negative", "neutral", "positive"],
                   base=["positive", "positive", "positive", "positive"],
                   tuned=["positive", "negative", "mixed", "good"], labels=LABELS)
    assert (t.examples, t.base, t.tuned) == (4, 0.5, 0.5)
    assert {c.prompt for c in t.changed} == {"b", "d"}  # b gained, d lost; a and c did not change


@pytest.mark.parametrize("answer, reference, expected", [
    ("Paris", "Paris", 1.0), ("paris.", "Paris", 1.0), ("The capital is Paris!", "paris", 1.0),
    ("the Eiffel tower", "Eiffel Tower", 1.0), ("Lyon", "Paris", 0.0), ("14", "4", 0.0), ("", "Paris", 0.0),
])
def test_normalized_match(answer: str, reference: str, expected: float) -> None:
    assert normalized_match(answer, reference) == expected


def test_rouge_l_is_the_lcs_f_measure() -> None:
    # LCS of "the cat sat on the mat" / "the cat lay on the mat" is 5 of 6 words each way
    assert rouge_l("the cat sat on the mat", "the cat lay on the mat") == pytest.approx(5 / 6)
    # LCS "a c" (2): precision 2/3, recall 2/4 -> F = 2 * (2/3 * 1/2) / (2/3 + 1/2) = 4/7
    assert rouge_l("a b c", "a c d e") == pytest.approx(4 / 7)
    assert rouge_l("x y", "a b") == 0.0 and rouge_l("same words", "Same words.") == 1.0


def test_token_f1_is_bag_of_words_overlap() -> None:
    # common {rome, the, capital} = 3; precision 3/6, recall 3/4 -> 0.6
    assert token_f1("Arr! Rome be the capital, matey!", "Rome is the capital.") == pytest.approx(0.6)
    assert token_f1("", "anything") == 0.0


@pytest.mark.parametrize("answer, parses, language", [
    ("```python\ndef add(a, b):\n    return a + b\n```", 1.0, "python"),
    ("```python\ndef add(a, b)\n    return a + b\n```", 0.0, "python"),  # missing colon: caught
    ("def f(:\n    pass", 0.0, "python"),  # no fence: detected from keywords
    ("```sql\nSELECT name FROM users WHERE id IN (1, 2);\n```", 1.0, "sql"),
    ("```js\nfunction f(x) { return [x;\n```", 0.0, "javascript"),
    ("I cannot write that function.", 0.0, "text"),  # no code at all
])
def test_code_parses_and_its_language_is_detected(answer: str, parses: float, language: str) -> None:
    assert code_parses(answer) == (parses, language)


def test_metric_follows_the_profile_and_the_data() -> None:
    assert metric_for("classification", ["positive"], LABELS) == "label accuracy"
    assert metric_for("code-generation", ["```python\nx = 1\n```"]) == "code parses"
    assert metric_for("summarization", ["A long summary of the text."]) == "ROUGE-L"
    assert metric_for("question-answering", ["Paris", "4", "blue"]) == "normalized match"
    long = ["Because light of short wavelengths is scattered more by the air."] * 3
    assert metric_for("question-answering", long) == "reference similarity"
    assert metric_for("chatbot", ["Hello!"]) == metric_for("instruction-following", ["Done."]) == "reference similarity"


# ---------------------------------------------------------------- retention
CAT = Question("cat", "en", "How many legs does a cat have?", ("4", "four"))
PARIS = Question("paris", "en", "What is the capital of France?", ("Paris",))
BEIJING = Question("beijing", "zh", "中国的首都是哪里？", ("北京",))
SKY = Question("sky", "en", "What colour is the sky?", ("blue",))


def test_a_forgotten_answer_is_counted() -> None:
    check = retention_check([CAT, PARIS, BEIJING, SKY],
                            base=["A cat has four legs.", "Paris.", "北京。", "Green."],
                            tuned=["Arr! A cat has five legs, me hearty!", "Arr! Paris, matey!", "上海", "Blue!"])
    assert (check.asked, check.base_right, check.tuned_right, check.learned) == (4, 3, 2, 1)
    assert [f.question for f in check.forgotten] == [CAT.question, BEIJING.question]
    assert check.forgotten[0].tuned == "Arr! A cat has five legs, me hearty!"
    assert check.kept == pytest.approx(1 / 3)  # two of the three it knew forgotten, one newly right
    assert forgetting(check)
    sky_known = retention_check([CAT, PARIS, BEIJING, SKY],
                                base=["A cat has four legs.", "Paris.", "北京。", "Blue."],
                                tuned=["Arr! A cat has five legs, me hearty!", "Arr! Paris, matey!", "上海", "Blue!"])
    assert sky_known.kept == pytest.approx(2 / 4) and forgetting(sky_known)


def test_answers_that_only_churn_are_not_flagged_but_still_listed() -> None:
    from peftstudio.quality import RetentionCheck
    from peftstudio.quality.report import Forgotten

    lost = tuple(Forgotten(f"q{i}", ("a",), "a", "b") for i in range(5))
    assert forgetting(RetentionCheck(asked=40, base_right=8, tuned_right=6, forgotten=lost, learned=3))
    churn = RetentionCheck(asked=40, base_right=8, tuned_right=8, forgotten=lost, learned=5)
    assert not forgetting(churn) and churn.forgotten_count == 5


@pytest.mark.parametrize("answer, right", [
    ("Four legs.", True), ("4", True), ("It has 14 legs", False), ("fourteen", False), ("Arr! Five!", False),
])
def test_accepted_answers_are_whole_words(answer: str, right: bool) -> None:
    assert answer_right(answer, CAT.accepted) is right


def test_one_slip_is_not_forgetting_but_several_are() -> None:
    from peftstudio.quality import RetentionCheck
    from peftstudio.quality.report import Forgotten

    slip = Forgotten("q", ("a",), "a", "b")
    assert not forgetting(RetentionCheck(asked=40, base_right=1, tuned_right=0, forgotten=(slip,)))  # FORGET_MIN
    # a few answers flip with any change of the weights: without a large drift, under half is not forgetting
    assert not forgetting(RetentionCheck(asked=40, base_right=16, tuned_right=12, forgotten=(slip,) * 5))
    assert forgetting(RetentionCheck(asked=40, base_right=16, tuned_right=8, forgotten=(slip,) * 8))


def test_the_drift_is_the_mean_divergence_of_the_choice_shares() -> None:
    from peftstudio.quality.retention import drift, shares

    same = [[-1.0, -2.0, -3.0], [-0.5, -4.0, -4.0]]
    assert drift(same, same) == 0.0
    assert drift(same, [[x + 7.0 for x in row] for row in same]) == 0.0  # a shift of every choice alike: style
    # one question of two swaps its belief from 0.9/0.1 to 0.1/0.9: KL = 0.8 ln 9, over two questions
    base, tuned = [[math.log(0.9), math.log(0.1)], [0.0, 0.0]], [[math.log(0.1), math.log(0.9)], [0.0, 0.0]]
    assert drift(base, tuned) == pytest.approx(0.8 * math.log(9) / 2, abs=1e-4)
    assert sum(shares([-1.0, -2.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        drift(same, same[:1])


def test_a_large_drift_flags_forgetting_whatever_the_greedy_answers() -> None:
    from peftstudio.quality import RetentionCheck
    from peftstudio.quality.retention import DRIFT_LIMIT

    gentle = RetentionCheck(asked=40, base_right=16, tuned_right=16, drift=DRIFT_LIMIT / 2, drift_asked=40)
    moved = RetentionCheck(asked=40, base_right=16, tuned_right=16, drift=DRIFT_LIMIT * 2, drift_asked=40)
    assert not forgetting(gentle) and forgetting(moved)
    assert f"drift {DRIFT_LIMIT * 2:.2f} nats per question over 40" in forgetting_said(moved)


def test_every_bundled_question_has_a_statement_and_right_first_choices() -> None:
    for q in questions():
        assert q.statement.count("{}") == 1 and len(q.choices) >= 3, q.id
        assert len(set(q.choices)) == len(q.choices), q.id
        assert answer_right(q.choices[0], q.accepted), q.id
        assert not any(answer_right(c, q.accepted) for c in q.choices[1:]), q.id


def test_the_bundled_set_is_a_few_dozen_questions_in_several_languages() -> None:
    qs = questions()
    assert 30 <= len(qs) <= 60
    assert {"en", "fr", "es", "de", "zh"} <= {q.language for q in qs}
    assert len({q.id for q in qs}) == len(qs) and all(q.accepted for q in qs)
    for q in qs:  # every accepted answer is recognised as right, in its own words
        assert all(answer_right(a, q.accepted) for a in q.accepted), q.id


# ---------------------------------------------------------------- the score with the checks
HEALTHY = RunNumbers(train_losses=tuple(2.5 - 0.01 * i for i in range(100)), val_losses=(2.0, 1.8, 1.7),
                     base_val_loss=2.4, final_val_loss=1.7, steps=100, steps_per_epoch=100, train_examples=800,
                     learning_rate=2e-3, rank=16)


def _with(task_tuned: float, base_right: int, forgotten: int, drift: float | None = None) -> RunNumbers:
    from peftstudio.quality import RetentionCheck, TaskCheck
    from peftstudio.quality.report import Forgotten

    lost = tuple(Forgotten(f"q{i}", ("a",), "a", "b") for i in range(forgotten))
    checks = ChecksReport(task=TaskCheck("reference similarity", 16, base=0.2, tuned=task_tuned),
                          retention=RetentionCheck(asked=40, base_right=base_right,
                                                   tuned_right=base_right - forgotten, forgotten=lost,
                                                   drift=drift, drift_asked=40))
    return attrs.evolve(HEALTHY, checks=checks)


def test_the_score_shows_task_and_retention_with_what_they_measured() -> None:
    q = score(_with(0.45, 20, 0))
    assert [p.name for p in q.parts][-2:] == ["task", "retention"]
    task, retention = q.parts[-2], q.parts[-1]
    assert task.points == pytest.approx(45) and "base 0.20 -> tuned 0.45 (+0.25)" in task.measured
    assert retention.points == 50 and "forgot 0 of the 20" in retention.measured
    assert not q.forgetting and q.total >= 90


def test_forgetting_is_flagged_caps_the_score_and_names_the_learning_rate() -> None:
    healthy = score(HEALTHY)
    q = score(_with(0.45, 20, 6, drift=1.1))
    assert q.forgetting and q.flags == ("forgetting",)
    assert "drift 1.10 nats per question" in q.suggestions[0]
    assert "drift 1.10 on 40" in q.parts[-1].measured
    gentle = score(_with(0.45, 20, 6, drift=0.25))  # the same answers lost, the beliefs barely moved: churn
    assert not gentle.forgetting and gentle.total > q.total
    assert q.total <= FORGETTING_CAP < healthy.total  # the loss alone said "good"
    assert "learning rate to 0.00067 (a third of 0.002)" in q.suggestions[0]
    assert "smaller LoRA rank (8)" in q.suggestions[0] and "forgot 6 of the 20" in q.suggestions[0]
    assert "Forgotten (6)" in q.render() and "flagged" in q.render()


def test_no_task_gain_suggests_more_or_cleaner_data_or_more_steps() -> None:
    q = score(_with(0.2, 20, 0))
    assert any(s.startswith("Add more or cleaner examples, or train for more steps") for s in q.suggestions)
    assert not any("Add more or cleaner" in s for s in score(_with(0.45, 20, 0)).suggestions)


def test_checks_not_run_leave_the_old_score_unchanged() -> None:
    assert score(attrs.evolve(HEALTHY, checks=None)) == score(HEALTHY)
    assert score(attrs.evolve(HEALTHY, checks=ChecksReport(notes=("turned off",)))).total == score(HEALTHY).total


def test_a_stored_score_without_checks_still_loads_and_a_new_one_round_trips() -> None:
    from peftstudio.quality import QualityScore
    from peftstudio.records.convert import from_dict, to_dict

    old = {"total": 86, "parts": [{"name": "stability", "title": "Stability", "points": 20.0, "max_points": 20,
                                   "measured": "0 loss spike(s)"}], "suggestions": ["Train longer."]}
    loaded = from_dict(QualityScore, old)
    assert loaded.checks is None and not loaded.forgetting and loaded.total == 86
    new = score(_with(0.45, 20, 6))
    assert from_dict(QualityScore, to_dict(new)) == new
