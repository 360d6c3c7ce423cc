"""Running the checks after training: the base and the tuned model answer, greedily, within a time budget.

The checks load the run's tuned model as the playground does (one base copy, the adapter switched
on for the tuned answers and off for the base answers), ask the run's held-out examples (the task
check) and the bundled general questions (the retention check) in batches, and stop when the
time budget is spent: `BUDGET_SHARE` of the training time. At least one batch of each check runs,
so both parts are measured; what the budget cut short is said in the report's notes. The first batch
of each check is small (`BATCH`, half that when the base model must answer it too) and says how long a
batch takes; later batches take as many prompts as their share of the time left allows (`MAX_BATCH` at
most). Answering is bound by reading the weights once per new token, whatever the number of prompts: on
SmolLM2 on two cores the 40 general questions take 6 s in one batch and 15 s in batches of 8, so larger
batches ask more in the budget.

Before the answers, both models score every general question's completed statements (`likelihoods`:
no generation, each question read once for all its statements), which gives the retention check its
drift whatever the budget.

The base model's greedy answers and likelihoods depend only on its weights and what is asked, so they
are kept in a small cache (`base_answers`, `base_likelihoods`): the second run on a model spends the
whole budget on the tuned model and asks about twice as many questions.

Example:
    >>> budget_seconds(300.0)
    60.0
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from peftstudio.planner.estimates import CHECKS_SHARE
from peftstudio.quality.checks import LABEL_ACCURACY, metric_for, task_check, words
from peftstudio.quality.report import ChecksReport
from peftstudio.quality.retention import Question, drift, questions, retention_check

BUDGET_SHARE = CHECKS_SHARE  # of the training time, as the plan states it
TASK_EXAMPLES = 16  # held-out examples asked at most
BATCH = 16  # prompts in the first batch of each check (half when the base model's answers are not cached)
MAX_BATCH = 48  # prompts answered together at most
SAFETY = 1.25  # a batch may take longer than estimated (`batch_size`): stop with room to spare
LIKELIHOOD_BATCH = 16  # completed statements scored together
#: Key/value cache layers whose rows can be copied to each statement (`_shared_prompt_scores`); a Dummy layer
#: holds nothing (Gemma 4's layers that reuse an earlier layer's keys and values).
SHAREABLE_CACHE_LAYERS = frozenset({"DynamicLayer", "DynamicSlidingWindowLayer", "DummyLayer"})
MIN_PREFIX = 8  # tokens all the drift's prompts start with, at least, to read them once for all
RETENTION_TOKENS = 32  # new tokens for a general question's answer
TASK_TOKENS = (16, 64)  # the fewest and most new tokens for a held-out answer (from its reference's length)

Messages = list[dict[str, str]]


def budget_seconds(training_seconds: float) -> float:
    """The checks' time budget for a run that trained `training_seconds`.

    Example:
        >>> budget_seconds(120.0), budget_seconds(-1.0)
        (24.0, 0.0)
    """
    return round(BUDGET_SHARE * max(training_seconds, 0.0), 1)


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


def base_answers_cached(session: Any, conversations: Sequence[Messages], *, max_new_tokens: int) -> bool:
    """Whether the cache holds the base model's answer to every one of `conversations`.

    Example:
        >>> from peftstudio.playground import PlaygroundSession
        >>> session = PlaygroundSession("builtin:tiny-llama", save_history=False)
        >>> batch = [[{"role": "user", "content": "Say a number."}]]
        >>> _ = base_answers(session, batch, max_new_tokens=3)
        >>> base_answers_cached(session, batch, max_new_tokens=3), base_answers_cached(session, batch, max_new_tokens=2)
        (True, False)
    """
    return len(_cached_answers(_answer_files(session, conversations, max_new_tokens))) == len(conversations)


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


def _left_padded(rows: Sequence[list[int]], pad: int, device: Any) -> tuple[Any, Any]:
    """(input ids, attention mask) of token rows padded on the left to the longest, so that they all end together."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=device)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
    return ids, mask


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
        prefix = _read_prefix(session, prompts) if prompts else None
        for i in range(0, len(asked), per_batch):
            p, a = prompts[i:i + per_batch], answers[i:i + per_batch]
            shared = _shared_prompt_scores(session, p, a, pad, prefix=prefix) if shareable else None
            shareable = shared is not None
            out += shared if shared is not None else _whole_row_scores(session, p, a, pad)
    return out


def _shareable(cache: Any, kinds: frozenset[str] = SHAREABLE_CACHE_LAYERS) -> bool:
    """Whether a key/value cache can be copied row by row: all its layers of `kinds`."""
    layers = list(getattr(cache, "layers", None) or [])
    return bool(layers) and all(type(layer).__name__ in kinds for layer in layers)


def _read_prefix(session: Any, prompts: Sequence[list[int]]) -> tuple[int, Any] | None:
    """The tokens all `prompts` start with (a chat template's system prompt: 24 of SmolLM2's 37), read once:
    (how many, the model's cache of them for one row); None when they share fewer than `MIN_PREFIX` tokens or
    the model has layers other than full attention (sliding windows, linear attention). Every prompt keeps at
    least one token of its own."""
    import torch

    n, shortest = 0, min(len(p) for p in prompts)
    while n < shortest - 1 and all(p[n] == prompts[0][n] for p in prompts):
        n += 1
    if n < MIN_PREFIX:
        return None
    cache = session.model(input_ids=torch.tensor([prompts[0][:n]], device=session.device), use_cache=True,
                          logits_to_keep=1).past_key_values
    # padding then sits between the prefix and each prompt's own tokens: a sliding window, which counts
    # cache entries rather than positions, would see the prefix farther than it is
    return (n, cache) if _shareable(cache, frozenset({"DynamicLayer"})) else None


def _shared_prompt_scores(session: Any, prompts: list[list[int]], answers: list[list[list[int]]],
                          pad: int, *, prefix: tuple[int, Any] | None = None) -> list[list[float]] | None:
    """`likelihoods` reading each prompt once (see there), after `prefix` (`_read_prefix`: the tokens every
    prompt starts with, read once, their cache copied to each row); None when the model's cache cannot be
    shared."""
    import copy

    import torch

    if prefix is None:
        ids, mask = _left_padded(prompts, pad, session.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        read = session.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                             logits_to_keep=1)
    else:  # [prefix][padding][the prompt's own tokens]: the padding is masked, the positions run on
        length, kept = prefix
        cache = copy.deepcopy(kept)
        cache.batch_repeat_interleave(len(prompts))
        ids, own = _left_padded([p[length:] for p in prompts], pad, session.device)
        mask = torch.cat([torch.ones(len(prompts), length, dtype=own.dtype, device=session.device), own], dim=1)
        positions = length + (own.cumsum(-1) - 1).clamp(min=0)
        read = session.model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                             use_cache=True, logits_to_keep=1)
    cache = read.past_key_values
    if not _shareable(cache):
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
                               past_key_values=cache, use_cache=True).logits.float().log_softmax(-1)
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
        ids, mask = _left_padded([p + a for p, a in chunk], pad, session.device)
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
    model spend their whole check budget on the tuned model. Returns how many questions were answered (0 when
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
    """Greedy answers of the tuned (`use_adapter`) or the base model to each conversation, in one batch.

    `session` is a `peftstudio.playground.PlaygroundSession` (its model, tokenizer and device).
    """
    import torch

    from peftstudio.data.template import prompt_ids, stop_ids

    tok = session.tokenizer
    # The model's chat template, or for a base model without one the plain layout it trained on.
    encoded = [prompt_ids(tok, list(m)) for m in conversations]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    ids, mask = _left_padded(encoded, pad, session.device)
    width = ids.shape[1]
    off = session.model.disable_adapter() if session.has_adapter and not use_adapter else contextlib.nullcontext()
    with off, torch.no_grad():
        out = session.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                     do_sample=False, pad_token_id=pad, eos_token_id=stop_ids(tok) or tok.eos_token_id)
    return [tok.decode(row[width:], skip_special_tokens=True).strip() for row in out]


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


def batch_size(left: int, *, last: int, seconds: float, room: float, first: int = BATCH) -> int:
    """How many of the `left` prompts of a check to ask next, after a batch of `last` prompts that would have
    taken `seconds` had every answer run to its full length (0 for the first batch: `first` prompts).

    Answering reads the weights once per new token, so a batch costs about the same with fewer prompts and
    less than in proportion with more: a batch of up to `last` prompts is taken to cost `seconds`, a larger
    one `seconds` in proportion. The answer is as many prompts as `room` seconds hold with `SAFETY` to
    spare, up to `MAX_BATCH`; 0 when not even that batch fits.

    Example:
        >>> batch_size(40, last=0, seconds=0.0, room=0.0)  # the first batch, whatever the time
        16
        >>> batch_size(32, last=8, seconds=2.0, room=6.0), batch_size(32, last=8, seconds=2.0, room=2.0)
        (19, 0)
    """
    if not last:
        return min(left, first)
    if SAFETY * seconds > room:
        return 0
    fits = MAX_BATCH if seconds <= 0 else int(last * room / (SAFETY * seconds))
    return min(left, MAX_BATCH, max(last, fits))


def _steps(session: Any, answers: Sequence[str], max_new_tokens: int) -> int:
    """About how many new tokens the longest of `answers` took (generation runs until the longest ends)."""
    longest = max((len(session.tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers), default=0)
    return max(1, min(max_new_tokens, longest + 1))


def run_checks(session: Any, config: Any, *, budget: float, clock: Callable[[], float] = time.monotonic,
               started: float | None = None, asked: Sequence[Question] | None = None) -> ChecksReport:
    """The task and retention checks of a run's tuned model, within `budget` seconds (from `started`).

    `asked` replaces the bundled general questions (`questions()`).

    Example:
        >>> from peftstudio.data import sample_path
        >>> from peftstudio.playground import PlaygroundSession
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                 data=DataSettings(path=str(sample_path("pirate_chat.jsonl"))))
        >>> session = PlaygroundSession("builtin:tiny-llama", save_history=False)  # no adapter: base = tuned
        >>> _ = warm_base_answers("builtin:tiny-llama")  # the general questions' base answers are cached
        >>> report = run_checks(session, cfg, budget=0.0)  # no time at all: one batch of each check
        >>> report.retention.asked, report.task.metric, report.task.gain, report.retention.forgotten_count
        (16, 'reference similarity', 0.0, 0)
        >>> report.notes[0]  # the held-out examples' base answers were not cached: a first batch of 8
        'the time budget of 0 s allowed 16 of 40 general questions and 8 of 16 held-out examples'
    """
    start = clock() if started is None else started
    general = list(questions() if asked is None else asked)
    conversations, references, labels = held_out(config)
    metric = metric_for(config.profile, references, labels) if references else ""
    task_tokens = 8 + max(len(words(x)) for x in labels) * 4 if metric == LABEL_ACCURACY else (
        _task_tokens(references, session.tokenizer) if references else 0)
    queues = {"retention": [[{"role": "user", "content": q.question}] for q in general], "task": conversations}
    tokens = {"retention": RETENTION_TOKENS, "task": task_tokens}
    scored = [q for q in general if q.choices]  # the drift: every question with choices, whatever the budget
    moved = drift(base_likelihoods(session, scored), likelihoods(session, scored, use_adapter=True)) if scored else None
    answers: dict[str, tuple[list[str], list[str]]] = {"retention": ([], []), "task": ([], [])}
    last = {kind: (0, 0.0) for kind in queues}  # each check's last batch: prompts, seconds at full length
    # a first batch the base model must answer too costs twice as much: it asks half as many prompts
    first = {kind: BATCH if base_answers_cached(session, queue[:BATCH], max_new_tokens=tokens[kind]) else BATCH // 2
             for kind, queue in queues.items()}
    shared = True  # each check asking gets an equal share of the time left; when none fits, the whole of it
    while asking := [k for k in queues if len(answers[k][0]) < len(queues[k])]:
        progressed = False
        for kind in asking:
            queue, done = queues[kind], len(answers[kind][0])
            room = (budget - (clock() - start)) / (len(asking) if shared else 1)
            n = batch_size(len(queue) - done, last=last[kind][0], seconds=last[kind][1], room=room, first=first[kind])
            if not n:
                if not shared:
                    queues[kind] = queue[:done]  # the budget is spent: what was answered so far is the check
                continue
            began = clock()
            batch = queue[done:done + n]
            answers[kind][0].extend(base_answers(session, batch, max_new_tokens=tokens[kind]))
            tuned = answer(session, batch, use_adapter=True, max_new_tokens=tokens[kind])
            answers[kind][1].extend(tuned)
            full = (clock() - began) * tokens[kind] / _steps(session, tuned, tokens[kind])
            last[kind] = (n, full)
            progressed = True
        shared = progressed
    notes = []
    n_general, n_task = len(answers["retention"][0]), len(answers["task"][0])
    if n_general < len(general) or n_task < len(conversations):
        notes.append(f"the time budget of {budget:.0f} s allowed {n_general} of {len(general)} general questions "
                     f"and {n_task} of {len(conversations)} held-out examples")
    if not conversations:
        notes.append("no held-out examples with an answer to compare: the task check was left out")
    retention = retention_check(general[:n_general], *answers["retention"], drift=moved,
                                drift_asked=len(scored)) if n_general else None
    task = None
    if n_task:
        prompts = [c[-1]["content"] for c in conversations[:n_task]]
        task = task_check(metric, prompts, references[:n_task], *answers["task"], labels=labels)
    return ChecksReport(task=task, retention=retention, seconds=round(clock() - start, 1),
                        budget_seconds=budget, notes=tuple(notes))


def check_run(store: Any, run_id: str, *, budget: float | None = None) -> ChecksReport:
    """Run the checks on a finished run's tuned model (its adapter); the budget follows its training time.

    This is what `record_quality` calls when a run finishes; call it again to re-check a stored run, e.g.
    ``check_run(open_store(), "run-20261205-101500-ab12", budget=60)``.
    """
    from peftstudio.playground import open_playground

    run = store.get_run(run_id)
    if budget is None:
        budget = budget_seconds(float(run.summary.get("duration_seconds") or run.elapsed_seconds or 0.0))
    started = time.monotonic()
    session = open_playground(run_id, store=store, save_history=False)
    return run_checks(session, run.config, budget=budget, started=started)


__all__ = ["BUDGET_SHARE", "answer", "base_answers", "base_answers_cached", "batch_size", "base_likelihoods", "likelihoods", "warm_base_answers", "budget_seconds", "check_run", "held_out", "run_checks"]
