"""The playground: ask the tuned model and the base model the same question, side by side.

One copy of the base model is loaded. The run's LoRA adapter sits on top of it; the base
answer is produced with the adapter switched off (`disable_adapter`), so the base model's
logits are exactly those of the model without the adapter, and no second copy is needed.
Tokens stream to a callback as they are generated. Each exchange is saved in the store as
the run's chat history.

Example:
    >>> session = PlaygroundSession("builtin:tiny-llama")             # doctest: +SKIP
    >>> exchange = session.compare("Say hello", GenerationSettings(max_new_tokens=8))  # doctest: +SKIP
    >>> exchange.base.text != ""                                        # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from peftstudio.records import convert

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from peftstudio.records.config import RunConfig
    from peftstudio.store import Store

TokenCallback = Callable[[str], None]


@frozen
class GenerationSettings:
    """How answers are sampled. ``temperature=0`` means greedy (always the most likely token).

    Example:
        >>> GenerationSettings(temperature=0).greedy
        True
    """

    temperature: float = 0.7
    top_p: float = 0.9
    max_new_tokens: int = 128
    seed: int = 0
    system_prompt: str = ""

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


@frozen
class Answer:
    """One model's answer, with timing: time to first token and tokens per second."""

    text: str
    tokens: int
    seconds: float
    first_token_seconds: float
    model: str  # "tuned" or "base"
    stopped: bool = False  # cancelled before it ended by itself (Stop): `text` is what came until then

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


@frozen
class Exchange:
    """A prompt with the tuned and (optionally) the base answer, as saved in the chat history."""

    prompt: str
    tuned: Answer | None
    base: Answer | None
    settings: GenerationSettings
    time: float
    run_id: str = ""
    id: int = 0
    source: dict[str, Any] = field(factory=dict)


class _Streamer:
    """A transformers streamer that decodes new tokens and calls back with each new piece of text."""

    def __init__(self, tokenizer: Any, on_token: TokenCallback | None) -> None:
        self.tokenizer = tokenizer
        self.on_token = on_token
        self._prompt_seen = False
        self.ids: list[int] = []
        self.text = ""
        self.first_token_at: float | None = None

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:  # generate() first passes the prompt
            self._prompt_seen = True
            return
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        self.ids.extend(int(t) for t in value.reshape(-1).tolist())
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
            return
        new, self.text = text[len(self.text):], text
        if new and self.on_token:
            self.on_token(new)

    def end(self) -> None:
        pass


class _Cancelled:
    """A transformers stopping criterion that ends generation once `event` is set (a Stop from another thread).

    Checked after every new token, so a Stop takes effect within one token's time.
    """

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor | bool:
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


def inference_placement(cuda: bool | None = None, bf16: bool | None = None) -> tuple[str, torch.dtype]:
    """Where and in what dtype the playground runs a model: the first CUDA GPU in bf16 (fp16 on
    cards without bf16), else the processor in fp32 (16-bit matrix products are slow there).

    Example:
        >>> inference_placement(cuda=True, bf16=False)
        ('cuda:0', torch.float16)
        >>> inference_placement(cuda=False)
        ('cpu', torch.float32)
    """
    import torch

    cuda = torch.cuda.is_available() if cuda is None else cuda
    if not cuda:
        return "cpu", torch.float32
    bf16 = torch.cuda.is_bf16_supported() if bf16 is None else bf16
    return "cuda:0", torch.bfloat16 if bf16 else torch.float16


def is_completion_profile(profile: str) -> bool:
    """Whether a profile trains on plain text only (domain adaptation): its playground continues text.

    Example:
        >>> is_completion_profile("domain-adaptation"), is_completion_profile("chatbot")
        (True, False)
    """
    from peftstudio.planner.profiles import PROFILES

    return any(p.id == profile and p.data_structures == ("text",) for p in PROFILES)


class PlaygroundSession:
    """A loaded model ready to answer: the base model with an optional LoRA adapter over it.

    `adapter_dir` is a PEFT adapter folder (``adapter_config.json`` + safetensors), as a run or a
    model version stores it. Without one, tuned and base answers are the same model.
    Generation is serialised by a lock, so the app may call from worker threads.
    """

    def __init__(
        self,
        base_reference: str,
        adapter_dir: str | Path | None = None,
        *,
        run_id: str = "",
        version_id: str | None = None,
        profile: str = "chatbot",
        store: Store | None = None,
        save_history: bool = True,
        completion: bool | None = None,
    ) -> None:

        from peftstudio.models import load_model, load_tokenizer

        self.base_reference = base_reference
        self.run_id = run_id
        self.version_id = version_id
        self.profile = profile
        self._store = store
        self.save_history = save_history
        self._lock = threading.Lock()
        self.tokenizer = load_tokenizer(base_reference)
        #: Plain completion (the prompt is continued as it is) for runs trained on plain text; otherwise the
        #: prompt is laid out as a chat turn: the model's template, or the plain layout of a base model.
        self.completion = is_completion_profile(profile) if completion is None else completion
        from peftstudio.data.template import stop_ids

        # An answer ends at the end of the sequence or, in a chat, at the template's end-of-turn marker
        # (Gemma ends turns with <end_of_turn> but sequences with <eos>).
        stops = stop_ids(self.tokenizer)
        self._stop_ids: list[int] | None = (stops[:1] if self.completion else stops) or None
        self.device, dtype = inference_placement()
        placement: dict[str, Any] = {"device_map": {"": self.device}} if self.device != "cpu" else {}
        model: Any = load_model(base_reference, dtype=dtype, **placement)
        self.has_adapter = adapter_dir is not None
        if adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
        self.model = model.eval()  # a PreTrainedModel, or a PeftModel around one

    def default_settings(self) -> GenerationSettings:
        """The generation settings the run's profile starts with (code generation: temperature 0.2)."""
        from peftstudio.planner.profiles import get_profile

        try:
            temperature = get_profile(self.profile).playground_temperature
        except Exception:  # noqa: BLE001 - a profile this version does not know: the general default
            return GenerationSettings()
        return GenerationSettings(temperature=temperature)

    # ------------------------------------------------------------ generation
    def _prompt_ids(self, prompt: str, settings: GenerationSettings) -> dict[str, Any]:
        import torch

        from peftstudio.data.template import prompt_ids

        messages = []
        if settings.system_prompt and not self.completion:
            messages.append({"role": "system", "content": settings.system_prompt})
        messages.append({"role": "user", "content": prompt})
        ids = prompt_ids(self.tokenizer, messages, completion=self.completion)
        return {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=torch.long)}

    def generate(
        self,
        prompt: str,
        settings: GenerationSettings | None = None,
        *,
        use_adapter: bool = True,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Answer:
        """Answer `prompt` with the tuned model (or the base, `use_adapter=False`), streaming to `on_token`.

        Setting `cancel` (from any thread) stops the answer after the token being generated: the `Answer`
        then holds the text so far with ``stopped=True``. An event already set gives an empty stopped answer.

        Example:
            >>> stop = threading.Event()                                            # doctest: +SKIP
            >>> answer = session.generate("Hi", on_token=lambda t: stop.set(), cancel=stop)  # doctest: +SKIP
            >>> answer.stopped, answer.tokens                                       # doctest: +SKIP
            (True, 1)
        """
        import contextlib

        import torch
        from transformers import StoppingCriteriaList

        settings = settings or GenerationSettings()
        model_name = "tuned" if use_adapter and self.has_adapter else "base"
        if cancel is not None and cancel.is_set():
            return Answer(text="", tokens=0, seconds=0.0, first_token_seconds=0.0, model=model_name, stopped=True)
        inputs = {k: v.to(self.device) for k, v in self._prompt_ids(prompt, settings).items()}
        streamer = _Streamer(self.tokenizer, on_token)
        kwargs: dict[str, Any] = {
            "max_new_tokens": settings.max_new_tokens,
            "do_sample": not settings.greedy,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self._stop_ids,
            "streamer": streamer,
        }
        if cancel is not None:
            kwargs["stopping_criteria"] = StoppingCriteriaList([_Cancelled(cancel)])
        if not settings.greedy:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
        off = self.model.disable_adapter() if (self.has_adapter and not use_adapter) else contextlib.nullcontext()
        with self._lock, off, torch.no_grad():
            torch.manual_seed(settings.seed)
            start = time.perf_counter()
            self.model.generate(**inputs, **kwargs)
            seconds = time.perf_counter() - start
        first = (streamer.first_token_at - start) if streamer.first_token_at else seconds
        return Answer(text=streamer.text.strip(), tokens=len(streamer.ids), seconds=seconds,
                      first_token_seconds=first, model=model_name,
                      stopped=cancel is not None and cancel.is_set())

    def logits(self, text: str, *, use_adapter: bool = True) -> torch.Tensor:
        """Next-token logits for every position of `text` (for checks and comparisons)."""
        import contextlib

        import torch

        ids = {k: v.to(self.device) for k, v in self.tokenizer(text, return_tensors="pt").items()}
        off = self.model.disable_adapter() if (self.has_adapter and not use_adapter) else contextlib.nullcontext()
        with self._lock, off, torch.no_grad():
            return self.model(**ids, use_cache=False).logits[0].float().cpu()

    def compare(
        self,
        prompt: str,
        settings: GenerationSettings | None = None,
        *,
        compare_base: bool = True,
        on_token: Callable[[str, str], None] | None = None,
        cancel: threading.Event | None = None,
        on_answer: Callable[[Answer], None] | None = None,
    ) -> Exchange:
        """The tuned answer and, with `compare_base`, the base answer; saved to the chat history.

        `on_token(which, text)` receives streamed pieces, `which` being ``"tuned"`` or ``"base"``;
        `on_answer` each finished answer. Setting `cancel` stops the answer being generated and skips the
        base answer if it has not begun (it is then ``None``); what was said so far is saved.
        """
        settings = settings or GenerationSettings()
        tuned = self.generate(prompt, settings, use_adapter=True, cancel=cancel,
                              on_token=(lambda t: on_token("tuned", t)) if on_token else None)
        if on_answer:
            on_answer(tuned)
        base = None
        if compare_base and not (cancel is not None and cancel.is_set()):
            base = self.generate(prompt, settings, use_adapter=False, cancel=cancel,
                                 on_token=(lambda t: on_token("base", t)) if on_token else None)
            if on_answer:
                on_answer(base)
        exchange = Exchange(prompt=prompt, tuned=tuned, base=base, settings=settings, time=time.time(),
                            run_id=self.run_id, source={"model": self.base_reference, "version": self.version_id})
        if self.save_history and self.run_id:
            exchange = save_exchange(exchange, self.version_id, store=self._store)
        return exchange

    def history(self) -> list[Exchange]:
        """This run's saved exchanges, oldest first."""
        return chat_history(self.run_id, store=self._store) if self.run_id else []


# ---------------------------------------------------------------- chat history in the store

def save_exchange(exchange: Exchange, version_id: str | None = None, *, store: Store | None = None) -> Exchange:
    """Store an exchange as part of its run's chat history; returns it with its id."""
    import attrs

    from peftstudio.store import open_store
    from peftstudio.store.chats import add_chat

    chat_id = add_chat(open_store(store), exchange.run_id, version_id, exchange.time, convert.to_dict(exchange))
    return attrs.evolve(exchange, id=chat_id)


def chat_history(run_id: str, *, store: Store | None = None) -> list[Exchange]:
    """A run's exchanges, oldest first."""
    import attrs

    from peftstudio.store import open_store
    from peftstudio.store.chats import chat_rows

    return [attrs.evolve(convert.from_dict(Exchange, data), id=chat_id)
            for chat_id, data in chat_rows(open_store(store), run_id)]


def search_history(run_id: str, text: str = "", *, store: Store | None = None) -> list[Exchange]:
    """A run's exchanges, newest first, whose prompt or answers contain `text` (any case; all when empty).

    Example:
        >>> [e.prompt for e in search_history("a1b2", "PIRATE")]             # doctest: +SKIP
        ['Talk like a pirate']
    """
    needle = text.casefold().strip()

    def says(e: Exchange) -> str:
        return "\n".join([e.prompt, *(a.text for a in (e.tuned, e.base) if a is not None)]).casefold()

    return [e for e in reversed(chat_history(run_id, store=store)) if not needle or needle in says(e)]


def is_completion_run(config: RunConfig) -> bool:
    """Whether a run's playground continues text (trained on plain text) rather than answering a chat turn.

    Example:
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> is_completion_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                             data=DataSettings(path="notes.txt", structure="text")))
        True
    """
    return is_completion_profile(config.profile) or config.data.structure == "text"


def export_history(run_id: str, path: str | Path, *, store: Store | None = None) -> Path:
    """Write a run's chat history to a JSON file (atomically)."""
    from peftstudio.files import atomic_write_text

    data = {"run_id": run_id, "exchanges": [convert.to_dict(e) for e in chat_history(run_id, store=store)]}
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
