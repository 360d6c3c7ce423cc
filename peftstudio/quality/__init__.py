"""The quality score of a finished run, and the checks after training that feed it.

- `score`: the pure score over a run's numbers (`RunNumbers` -> `QualityScore`);
- `checks`: the task checks' arithmetic (label accuracy, normalized match, ROUGE-L, code parses,
  reference similarity);
- `retention`: the bundled general questions and what the tuned model forgot;
- `run`: asking the base and the tuned model, greedily, the same questions every run;
- `report`: the records the checks produce.

Example:
    >>> n = RunNumbers(train_losses=(2.5, 2.2, 2.0, 1.9, 1.8), steps=5, steps_per_epoch=5, train_examples=400)
    >>> [p.name for p in score(n).parts]
    ['stability', 'coverage']
"""

from peftstudio.quality.checks import (
    code_parses,
    label_correct,
    metric_for,
    normalized_match,
    rouge_l,
    task_check,
    token_f1,
)
from peftstudio.quality.report import ChecksReport, ExampleChange, Forgotten, RetentionCheck, TaskCheck
from peftstudio.quality.retention import answer_right, forgetting, questions, retention_check
from peftstudio.quality.score import (
    FORGETTING_CAP,
    QualityPart,
    QualityScore,
    RunNumbers,
    check_lines,
    numbers_for_run,
    record_quality,
    score,
    score_run,
    spike_count,
)

__all__ = [
    "FORGETTING_CAP",
    "ChecksReport",
    "ExampleChange",
    "Forgotten",
    "QualityPart",
    "QualityScore",
    "RetentionCheck",
    "RunNumbers",
    "TaskCheck",
    "answer_right",
    "check_lines",
    "code_parses",
    "forgetting",
    "label_correct",
    "metric_for",
    "normalized_match",
    "numbers_for_run",
    "questions",
    "record_quality",
    "retention_check",
    "rouge_l",
    "score",
    "score_run",
    "spike_count",
    "task_check",
    "token_f1",
]
