"""Running the checks after training: the base and the tuned model answer, greedily, the same fixed set.

The checks load the run's tuned model as the playground does (one base copy, the adapter switched
on for the tuned answers and off for the base answers) and ask every bundled general question (the
retention check) and the run's first `TASK_EXAMPLES` held-out examples (the task check), each check in
one batch (`MAX_BATCH` prompts at most at once). The set asked depends only on the run, never on the
machine's speed or on what is cached, so the same run scores the same twice. Answering is bound by
reading the weights once per new token, whatever the number of prompts: on SmolLM2 on two cores the 40
general questions take 6 s in one batch and 15 s in batches of 8.

Before the answers, both models score every general question's completed statements (`likelihoods`:
no generation, each question read once for all its statements), which gives the retention check its
drift.

The base model's greedy answers and likelihoods depend only on its weights and what is asked, so they
are kept in a small cache (`base_answers`, `base_likelihoods`): from the second run on a model, only the
tuned model answers. The plan estimates how long the checks take (`peftstudio.planner.estimates`).

Example:
    >>> len(questions()), TASK_EXAMPLES, MAX_BATCH
    (40, 16, 48)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from peftstudio.quality.checks import LABEL_ACCURACY, metric_for, task_check, words
from peftstudio.quality.reading import (
    cache_input,
    cache_of,
    copyable,
    greedy_tokens,
    left_padded,
    read_prefix,
    read_prompts,
)
from peftstudio.quality.report import ChecksReport
from peftstudio.quality.retention import Question, drift, questions, retention_check

TASK_EXAMPLES = 16  # held-out examples asked at most
MAX_BATCH = 48  # prompts answered together at most
LIKELIHOOD_BATCH = 16  # completed statements scored together
RETENTION_TOKENS = 32  # new tokens for a general question's answer
TASK_TOKENS = (16, 64)  # the fewest and most new tokens for a held-out answer (from its reference's length)

Messages = list[dict[str, str]]


def _base_cache_file(session: Any, asked: Any) -> Path | None:
    """The cache file of what the base model said to `asked` (any JSON value: the prompts and how they were
    asked), named by a digest of what the result depends on (None: not cacheable)."""
    from peftstudio import paths
    from peftstudio.files import cache_file, weights_stamp
    from peftstudio.models import model_folder

    try:
        folder = model_folder(session.base_reference)
        stamp = weights_stamp(folder)
    except Exception:  # noqa: BLE001 - a model we cannot stamp is simply not cached
        return None
    if not stamp:
        return None
    from peftstudio.data.template import stop_ids

    what = [str(folder.resolve()), stamp, asked, str(getattr(session.tokenizer, "chat_template", "")),
            stop_ids(session.tokenizer), str(session.device)]
    return cache_file(paths.sub("cache", "base-answers"), what)


def base_answers(session: Any, conversations: Sequence[Messages], *, max_new_tokens: int) -> list[str]:
    """The base model's greedy answers to `conversations`, each from the cache when the same model answered
    it before; the others are answered together (`MAX_BATCH` at most at once) and cached one by one, so a
    question is found again whatever batch it comes in (a row's greedy answer does not depend on its batch).

    Example:
        >>> from peftstudio.playground import PlaygroundSession
        >>> session = PlaygroundSession("builtin:tiny-llama", save_history=False)
        >>> batch = [[{"role": "user", "content": "Hi"}]]
        >>> base_answers(session, batch, max_new_tokens=4) == answer(session, batch, use_adapter=False,
        ...                                                           max_new_tokens=4)
        True
    """
    from peftstudio.files import write_json

    files = _answer_files(session, conversations, max_new_tokens)
    found = _cached_answers(files)
    missing = [i for i in range(len(conversations)) if i not in found]
    for at in range(0, len(missing), MAX_BATCH):
        chunk = missing[at:at + MAX_BATCH]
        fresh = answer(session, [conversations[i] for i in chunk], use_adapter=False, max_new_tokens=max_new_tokens)
        for i, text in zip(chunk, fresh, strict=True):
            found[i] = text
            write_json(files[i], text)
    return [found[i] for i in range(len(conversations))]


def _answer_files(session: Any, conversations: Sequence[Messages], max_new_tokens: int) -> list[Path | None]:
    """The cache file of the base model's answer to each conversation (None: not cacheable)."""
    return [_base_cache_file(session, _answer_key(c, max_new_tokens)) for c in conversations]


def _cached_answers(files: Sequence[Path | None]) -> dict[int, str]:
    """The answers the cache holds, by position in `files` (nothing is computed)."""
    from peftstudio.files import read_json

    kept = [read_json(f, valid=lambda v: isinstance(v, str)) for f in files]
    return {i: text for i, text in enumerate(kept) if text is not None}


def _answer_key(conversation: Messages, max_new_tokens: int) -> list[Any]:
    """What the base model's answer to one conversation depends on, besides the model (the cache's key)."""
    return ["answer", list(conversation), max_new_tokens]


def base_likelihoods(session: Any, asked: Sequence[Question]) -> list[list[float]]:
    """The base model's `likelihoods` of the questions' completed statements, from the cache when it has
    scored them before.

    Example:
        >>> from peftstudio.playground import PlaygroundSession
        >>> session = PlaygroundSession("builtin:tiny-llama", save_history=False)
        >>> cat = [q for q in questions() if q.id == "en-cat-legs"]
        >>> base_likelihoods(session, cat) == likelihoods(session, cat, use_adapter=False)
        True
    """
    key = ["likelihoods", [[q.question, *q.completions()] for q in asked]]
    out = _cached(session, key, len(asked), lambda: likelihoods(session, asked, use_adapter=False))
    return [[float(x) for x in row] for row in out]


def _cached(session: Any, asked: Any, n: int, compute: Callable[[], list[Any]]) -> list[Any]:
    """`compute()`'s list of `n` results for the base model, kept in the cache under `asked`."""
    from peftstudio.files import cached_json

    out = cached_json(_base_cache_file(session, asked), compute,
                      valid=lambda cached: isinstance(cached, list) and len(cached) == n)
    return list(out)


def likelihoods(session: Any, asked: Sequence[Question], *, use_adapter: bool) -> list[list[float]]:
    """Each question's completed statements scored by the tuned (`use_adapter`) or the base model: the summed
    log-probability of the statement's tokens after the question (as the model's answer), one list per question.

    The question is read once for all its statements: a batch of questions (left-padded) fills the model's
    key/value cache, which is then copied to each statement's row, and only the statements' own tokens go
    through the model again (a third of the tokens of reading every row whole). What every question's prompt
    starts with (a chat template's system prompt) is read once for all. Models whose cache cannot be
    copied row by row (linear-attention layers) read every row whole, left-padded so that each statement ends
    its row, with logits only for the last positions. Both give the same numbers to float precision (tested).

    Example:
        >>> from peftstudio.playground import PlaygroundSession
        >>> session = PlaygroundSession("builtin:tiny-llama", save_history=False)
        >>> cat = [q for q in questions() if q.id == "en-cat-legs"]
        >>> scores = likelihoods(session, cat, use_adapter=False)
        >>> len(scores[0]) == len(cat[0].choices), all(x < 0 for x in scores[0])
        (True, True)
    """
    import torch

    from peftstudio.data.template import prompt_ids

    tok = session.tokenizer
    prompts = [prompt_ids(tok, [{"role": "user", "content": q.question}]) for q in asked]
    answers = [[tok(text, add_special_tokens=False)["input_ids"] for text in q.completions()] for q in asked]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    per_batch = max(1, LIKELIHOOD_BATCH // max((len(a) for a in answers), default=1))
    out: list[list[float]] = []
    shareable = True  # until the model's cache says otherwise (then every later batch reads rows whole)
    off = session.model.disable_adapter() if session.has_adapter and not use_adapter else contextlib.nullcontext()
    with off, torch.no_grad():
        prefix = read_prefix(session.model, prompts, session.device) if prompts else None
        for i in range(0, len(asked), per_batch):
            p, a = prompts[i:i + per_batch], answers[i:i + per_batch]
            shared = _shared_prompt_scores(session, p, a, pad, prefix=prefix) if shareable else None
            shareable = shared is not None
            out += shared if shared is not None else _whole_row_scores(session, p, a, pad)
    return out


def _shared_prompt_scores(session: Any, prompts: list[list[int]], answers: list[list[list[int]]],
                          pad: int, *, prefix: tuple[int, Any] | None = None) -> list[list[float]] | None:
    """`likelihoods` reading each prompt once (see there), after `prefix` (`read_prefix`: the tokens every
    prompt starts with, read once, their cache copied to each row); None when the model's cache cannot be
    shared."""
    import torch

    read, mask = read_prompts(session.model, prompts, pad, session.device, prefix=prefix)
    cache = cache_of(read)
    if not copyable(cache):
        return None
    first = read.logits[:, -1].float().log_softmax(-1)  # each prompt's next token: a statement's first
    if not any(answers):
        return [[] for _ in answers]
    owner = torch.tensor([q for q, rows in enumerate(answers) for _ in rows], device=session.device)
    flat = [row for rows in answers for row in rows]
    scores = [float(first[q, row[0]]) for q, row in zip(owner.tolist(), flat, strict=True)]
    width = max(len(row) for row in flat) - 1
    if width > 0:  # the statements' other tokens, after a copy of their question's cache
        cache.batch_select_indices(owner)
        rest = torch.tensor([row[:-1] + [pad] * (width + 1 - len(row)) for row in flat], device=session.device)
        own = torch.tensor([[1] * (len(row) - 1) + [0] * (width + 1 - len(row)) for row in flat],
                           device=session.device)
        start = mask.sum(-1)[owner]
        logits = session.model(input_ids=rest, attention_mask=torch.cat([mask[owner], own], dim=1),
                               position_ids=start[:, None] + torch.arange(width, device=session.device),
                               **cache_input(session.model, cache), use_cache=True).logits.float().log_softmax(-1)
        for r, row in enumerate(flat):
            if len(row) > 1:
                target = torch.tensor(row[1:], device=session.device)
                scores[r] += float(logits[r, :len(row) - 1].gather(-1, target[:, None]).sum())
    return _per_question(scores, answers)


def _whole_row_scores(session: Any, prompts: list[list[int]], answers: list[list[list[int]]],
                      pad: int) -> list[list[float]]:
    """`likelihoods` reading every prompt and statement as one row (any model)."""
    import torch

    rows = [(p, a) for p, rows_of in zip(prompts, answers, strict=True) for a in rows_of]
    scores: list[float] = []
    for i in range(0, len(rows), LIKELIHOOD_BATCH):
        chunk = rows[i:i + LIKELIHOOD_BATCH]
        keep = max(len(a) for _, a in chunk) + 1
        ids, mask = left_padded([p + a for p, a in chunk], pad, session.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = session.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=False,
                               logits_to_keep=keep).logits[:, -keep:].float().log_softmax(-1)
        for row, (_, a) in zip(logits, chunk, strict=True):
            target = torch.tensor(a, device=session.device)
            scores.append(float(row[keep - len(a) - 1:keep - 1].gather(-1, target[:, None]).sum()))
    return _per_question(scores, answers)


def _per_question(scores: list[float], answers: list[list[list[int]]]) -> list[list[float]]:
    """The statements' scores, in order, grouped by question."""
    out, at = [], 0
    for rows in answers:
        out.append(scores[at:at + len(rows)])
        at += len(rows)
    return out


def warm_base_answers(reference: str) -> int:
    """Ask `reference` (a base model) every bundled general question once, into the cache: later runs on this
    model ask only the tuned model. Returns how many questions were answered (0 when
    all were cached already).

    Example:
        >>> warm_base_answers("builtin:tiny-llama") >= 0
        True
    """
    from peftstudio.playground import PlaygroundSession

    session = PlaygroundSession(reference, save_history=False)
    asked = [[{"role": "user", "content": q.question}] for q in questions()]
    base_likelihoods(session, [q for q in questions() if q.choices])
    fresh = sum(1 for f in _answer_files(session, asked, RETENTION_TOKENS) if f is None or not f.is_file())
    base_answers(session, asked, max_new_tokens=RETENTION_TOKENS)
    return fresh


def answer(session: Any, conversations: Sequence[Messages], *, use_adapter: bool, max_new_tokens: int) -> list[str]:
    """Greedy answers of the tuned (`use_adapter`) or the base model to each conversation, in one batch (a row
    leaves the batch when its answer ends: `peftstudio.quality.reading`).

    `session` is a `peftstudio.playground.PlaygroundSession` (its model, tokenizer and device).
    """
    import torch

    from peftstudio.data.template import prompt_ids, stop_ids

    tok = session.tokenizer
    # The model's chat template, or for a base model without one the plain layout it trained on.
    encoded = [prompt_ids(tok, list(m)) for m in conversations]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    off = session.model.disable_adapter() if session.has_adapter and not use_adapter else contextlib.nullcontext()
    stops = stop_ids(tok) or tok.eos_token_id
    with off, torch.no_grad():
        rows = greedy_tokens(session.model, encoded, pad=pad, device=session.device, max_new_tokens=max_new_tokens,
                             stops=set(stops) if isinstance(stops, list) else {stops})
        if rows is None:
            ids, mask = left_padded(encoded, pad, session.device)
            out = session.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                         do_sample=False, pad_token_id=pad, eos_token_id=stops)
            rows = [row[ids.shape[1]:] for row in out]
    return [tok.decode(row, skip_special_tokens=True).strip() for row in rows]


def held_out(config: Any, n: int = TASK_EXAMPLES) -> tuple[list[Messages], list[str], list[str]]:
    """Up to `n` held-out examples of a run as (conversations up to the first answer, reference answers,
    the label set when the data is labelled).

    Example:
        >>> from peftstudio.data import sample_path
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                 data=DataSettings(path=str(sample_path("pirate_chat.jsonl"))))
        >>> conversations, references, labels = held_out(cfg, n=2)
        >>> len(conversations), conversations[0][-1]["role"], references[0].startswith("Arr"), labels
        (2, 'user', True, [])
    """
    from peftstudio.data.build import split_examples

    train, valid = split_examples(config.data, config.training.seed)
    labels = sorted({ex.label for ex in train + valid if ex.label})
    conversations: list[Messages] = []
    references: list[str] = []
    for ex in valid:
        turns = list(ex.turns)
        first = next((i for i, (role, _) in enumerate(turns) if role == "assistant"), None)
        if first is None or not any(role == "user" for role, _ in turns[:first]):
            continue
        conversations.append([{"role": role, "content": content} for role, content in turns[:first]])
        references.append(turns[first][1])
        if len(conversations) >= n:
            break
    return conversations, references, labels


def _task_tokens(references: Sequence[str], tokenizer: Any) -> int:
    longest = max((len(tokenizer(r)["input_ids"]) for r in references), default=TASK_TOKENS[0])
    return max(TASK_TOKENS[0], min(TASK_TOKENS[1], int(longest * 1.3) + 4))


def run_checks(session: Any, config: Any, *, asked: Sequence[Question] | None = None,
               clock: Callable[[], float] = time.monotonic) -> ChecksReport:
    """The task and retention checks of a run's tuned model (module docstring); `asked` replaces the bundled
    general questions (`questions()`).

    Example:
        >>> from peftstudio.data import sample_path
        >>> from peftstudio.playground import PlaygroundSession
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                 data=DataSettings(path=str(sample_path("pirate_chat.jsonl"))))
        >>> session = PlaygroundSession("builtin:tiny-llama", save_history=False)  # no adapter: base = tuned
        >>> report = run_checks(session, cfg)
        >>> report.retention.asked, report.task.examples, report.task.metric, report.task.gain, report.notes
        (40, 16, 'reference similarity', 0.0, ())
    """
    start = clock()
    general = list(questions() if asked is None else asked)
    conversations, references, labels = held_out(config)
    metric = metric_for(config.profile, references, labels) if references else ""
    scored = [q for q in general if q.choices]  # the drift: every question with choices
    moved = drift(base_likelihoods(session, scored), likelihoods(session, scored, use_adapter=True)) if scored else None
    retention = None
    if general:
        prompts = [[{"role": "user", "content": q.question}] for q in general]
        retention = retention_check(general, *_both(session, prompts, RETENTION_TOKENS), drift=moved,
                                    drift_asked=len(scored))
    task = None
    if conversations:
        tokens = 8 + max(len(words(x)) for x in labels) * 4 if metric == LABEL_ACCURACY else (
            _task_tokens(references, session.tokenizer))
        task = task_check(metric, [c[-1]["content"] for c in conversations], references,
                          *_both(session, conversations, tokens), labels=labels)
    notes = () if conversations else ("no held-out examples with an answer to compare: the task check was left out",)
    return ChecksReport(task=task, retention=retention, seconds=round(clock() - start, 1), notes=notes)


def _both(session: Any, conversations: Sequence[Messages], max_new_tokens: int) -> tuple[list[str], list[str]]:
    """The base model's answers (from the cache where it has them) and the tuned model's, `MAX_BATCH` at once."""
    tuned: list[str] = []
    for at in range(0, len(conversations), MAX_BATCH):
        tuned += answer(session, conversations[at:at + MAX_BATCH], use_adapter=True, max_new_tokens=max_new_tokens)
    return base_answers(session, conversations, max_new_tokens=max_new_tokens), tuned


def expected_seconds(config: Any, tokens_per_second: float | None, *, device: str = "cpu") -> float | None:
    """About how long the checks take with nothing cached, at the speed the run trained at: the plan's
    estimate (`peftstudio.planner.estimates.checks_seconds`) from the throughput this run measured instead of
    the one this machine should reach; about half that once the base model's answers are cached. None when
    the speed or the model is unknown.

    Example:
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> config = RunConfig(profile="chatbot", model=ModelChoice(reference="builtin:smollm2-135m"),
        ...                    data=DataSettings(path="chat.jsonl"))
        >>> 40 < expected_seconds(config, 200.0) < 70, expected_seconds(config, None)
        (True, None)
    """
    if not tokens_per_second or tokens_per_second <= 0:
        return None
    from peftstudio.models import model_folder
    from peftstudio.models.catalog import describe_offline
    from peftstudio.planner.estimates import Range, checks_seconds, training_flops_per_token

    # the catalog's entry, else the config.json of the folder the run trained from (nothing fetched)
    spec = describe_offline(config.model.reference)
    if spec is None:
        with contextlib.suppress(Exception):  # a hub id outside the catalog: the folder the run trained from
            spec = describe_offline(str(model_folder(config.model.reference)))
    if spec is None:  # a model that cannot be described gets no estimate
        return None
    t = config.training
    flops = training_flops_per_token(spec, t.sequence_length, gradient_checkpointing=t.gradient_checkpointing)
    speed = Range(tokens_per_second, tokens_per_second)
    return checks_seconds(spec, flops_per_token=flops, speed=speed, device=device).max


def check_run(store: Any, run_id: str) -> ChecksReport:
    """Run the checks on a finished run's tuned model (its adapter).

    This is what `record_quality` calls when a run finishes; call it again to re-check a stored run, e.g.
    ``check_run(open_store(), "run-20261205-101500-ab12")``.
    """
    from peftstudio.playground import open_playground

    session = open_playground(run_id, store=store, save_history=False)
    return run_checks(session, store.get_run(run_id).config)


__all__ = ["MAX_BATCH", "TASK_EXAMPLES", "answer", "base_answers", "base_likelihoods", "check_run", "expected_seconds",
           "held_out", "likelihoods", "run_checks", "warm_base_answers"]
