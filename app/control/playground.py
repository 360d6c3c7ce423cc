"""The controller's part for the playground screen (base vs tuned chat, example chips, saved history).

`open_run_in_playground(run_id)` loads the run's tuned model (its LoRA adapter over one copy of the
base model, `peftstudio.playground.open_playground`) in the background and shows the playground.
`ask(prompt)` has both models answer on a worker thread; the library streams text pieces to a
callback on that thread, which only appends to buffers: the Kivy properties are updated on the UI
thread (`Clock.schedule_once`), at most once per frame however fast the pieces come.

A run the controller follows to completion opens in the playground by itself.
"""

from __future__ import annotations

import threading
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty

from app import present_playground as words

#: Run statuses during which a followed run is still on its way to completion.
ACTIVE_STATUSES = ("queued", "running", "pausing", "paused")


class PlaygroundControl:
    """Properties and actions for the playground screen; mixed into `app.controller.Controller`.

    States of `playground_state`: ``""`` (nothing opened), ``loading``, ``ready``, ``answering``,
    ``failed`` (`playground_message` says why).
    """

    playground_run_id = StringProperty("")
    playground_title = StringProperty("")
    playground_state = StringProperty("")
    playground_message = StringProperty("")
    playground_examples = ListProperty([])
    playground_prompt = StringProperty("")  # the question the answers below belong to
    tuned_answer = StringProperty("")
    base_answer = StringProperty("")
    tuned_stats = StringProperty("")
    base_stats = StringProperty("")
    playground_history = ListProperty([])  # `present_playground.exchange_row` dicts, oldest first
    generation = DictProperty(dict(words.DEFAULT_GENERATION))
    generation_problem = StringProperty("")
    compare_base = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: Any = None
        self._session_run = ""
        self._pending_prompt = ""
        self._stream_lock = threading.Lock()
        self._stream: dict[str, str] = {"tuned": "", "base": ""}
        self._stream_scheduled = False
        self._run_seen_active = ""  # the followed run, once it was seen training (for the automatic opening)
        self.bind(run_status=self._watch_run, step=self._watch_run)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ opening a run
    def open_run_in_playground(self, run_id: str) -> None:
        """Load the run's tuned model and its base (in the background), then show the playground."""
        if run_id != self._session_run or self.playground_state == "failed":
            self._session = None
            self._session_run = run_id
            self.playground_run_id = run_id
            self.playground_title = ""
            self.playground_examples = []
            self.playground_history = []
            self.playground_prompt = self.tuned_answer = self.base_answer = ""
            self.tuned_stats = self.base_stats = ""
            self._pending_prompt = ""
            self.playground_state = "loading"
            self.playground_message = "Loading the trained model and the original one..."
            self._load_run_details(run_id)
            self._load_session(run_id)
        self.show("playground")  # type: ignore[attr-defined]

    def _load_run_details(self, run_id: str) -> None:
        store = self.store  # type: ignore[attr-defined]

        def work() -> tuple[str, list[str], list[dict[str, Any]]]:
            from peftstudio.errors import make
            from peftstudio.playground import chat_history, run_example_prompts

            try:
                run = store.get_run(run_id)
            except KeyError:
                raise make("run_not_found", run_id=run_id) from None
            history = [words.exchange_row(e) for e in chat_history(run_id, store=store)]
            return run.name or run.id, run_example_prompts(run.config), history

        def done(result: tuple[str, list[str], list[dict[str, Any]]]) -> None:
            if run_id == self.playground_run_id:
                self.playground_title, self.playground_examples, history = result
                self.playground_history = history + [h for h in self.playground_history
                                                     if h["id"] not in {x["id"] for x in history}]

        self.background(work, done, self._playground_failed(run_id))  # type: ignore[attr-defined]

    def _load_session(self, run_id: str) -> None:
        store = self.store  # type: ignore[attr-defined]

        def work() -> Any:
            from peftstudio.playground import open_playground

            return open_playground(run_id, store=store)

        def done(session: Any) -> None:
            if run_id != self._session_run:
                return  # another run was opened meanwhile
            self._session = session
            self.reset_generation()  # the run's profile chooses the starting temperature
            self.playground_state = "ready"
            self.playground_message = "Ready. Type a question or tap an example."
            if self._pending_prompt:
                prompt, self._pending_prompt = self._pending_prompt, ""
                self.ask(prompt)

        self.background(work, done, self._playground_failed(run_id))  # type: ignore[attr-defined]

    def _playground_failed(self, run_id: str) -> Any:
        def failed(exc: BaseException) -> None:
            if run_id != self.playground_run_id:
                return
            from peftstudio.errors import as_plain

            info = as_plain(exc).info
            self.playground_state = "failed"
            self.playground_message = f"{info.title}. {info.explanation}"
            self._pending_prompt = ""

        return failed

    # ------------------------------------------------------------------ asking
    def ask(self, prompt: str) -> bool:
        """Have the tuned (and, with `compare_base`, the base) model answer `prompt`, streaming.

        While the model is still loading the question waits and is asked as soon as it is ready.
        Returns False when nothing is asked (an empty prompt, an answer in progress, no run opened).
        """
        prompt = prompt.strip()
        if not prompt or not self.playground_run_id or self.playground_state in ("answering", "failed", ""):
            return False
        self.playground_prompt = prompt
        self.tuned_answer = self.base_answer = self.tuned_stats = self.base_stats = ""
        if self._session is None:
            self._pending_prompt = prompt
            self.playground_message = "The question will be asked as soon as the model is loaded..."
            return True
        session, run_id = self._session, self.playground_run_id
        settings = self.generation_settings()
        compare_base = self.compare_base
        with self._stream_lock:
            self._stream = {"tuned": "", "base": ""}
        self.playground_state = "answering"
        self.playground_message = "The trained model is answering..."

        def work() -> Any:
            return session.compare(prompt, settings, compare_base=compare_base, on_token=self._streamed)

        def done(exchange: Any) -> None:
            self._flush_stream()
            if run_id != self.playground_run_id:
                return
            self._show_exchange_row(words.exchange_row(exchange))
            self.playground_history = [*self.playground_history, words.exchange_row(exchange)]
            self.playground_state = "ready"
            self.playground_message = "Done. Both answers are saved in this run's history."

        def failed(exc: BaseException) -> None:
            self.playground_state = "ready"
            self.playground_message = ""
            self.fail(exc, retry=lambda: self.ask(prompt))  # type: ignore[attr-defined]

        self.background(work, done, failed)  # type: ignore[attr-defined]
        return True

    def _streamed(self, which: str, piece: str) -> None:
        """Called on the generating thread for each new piece of text: buffer it, update on the UI thread."""
        with self._stream_lock:
            self._stream[which] = self._stream.get(which, "") + piece
            if self._stream_scheduled:
                return
            self._stream_scheduled = True
        Clock.schedule_once(lambda _dt: self._flush_stream())

    def _flush_stream(self) -> None:
        with self._stream_lock:
            tuned, base = self._stream["tuned"], self._stream["base"]
            self._stream_scheduled = False
        if self.playground_state != "answering":
            return
        self.tuned_answer = words.visible_text(tuned)
        self.base_answer = words.visible_text(base)
        if base:
            self.playground_message = "The original model is answering the same question..."

    # ------------------------------------------------------------------ settings
    def generation_settings(self) -> Any:
        """The `GenerationSettings` record for the values in `generation`."""
        from peftstudio.playground import GenerationSettings

        g = self.generation
        return GenerationSettings(temperature=float(g["temperature"]), top_p=float(g["top_p"]),
                                  max_new_tokens=int(g["max_new_tokens"]), seed=int(g["seed"]),
                                  system_prompt=str(g["system_prompt"]))

    def set_generation(self, key: str, text: Any) -> bool:
        """Change one generation setting from typed text; False, with `generation_problem` set, if refused."""
        try:
            value = words.parse_generation(key, text)
        except words.SettingProblem as exc:
            self.generation_problem = str(exc)
            return False
        self.generation_problem = ""
        self.generation = {**self.generation, key: value}
        return True

    def reset_generation(self) -> None:
        """Back to the defaults: the general ones, with the temperature of the open run's profile."""
        self.generation = dict(words.DEFAULT_GENERATION)
        if self._session is not None:
            self.generation = {**self.generation, "temperature": self._session.default_settings().temperature}
        self.generation_problem = ""

    # ------------------------------------------------------------------ history and navigation
    def show_exchange(self, exchange_id: int) -> None:
        """Show a saved exchange of the history in the answer panes."""
        for row in self.playground_history:
            if row["id"] == exchange_id:
                self._show_exchange_row(row)
                self.playground_message = f"A saved exchange from {row['when']} ({row['settings']})."
                return

    def _show_exchange_row(self, row: dict[str, Any]) -> None:
        self.playground_prompt = row["prompt"]
        self.tuned_answer, self.base_answer = row["tuned"], row["base"]
        self.tuned_stats, self.base_stats = row["tuned_stats"], row["base_stats"]

    def show_run_dashboard(self, run_id: str = "") -> None:
        """The training dashboard of `run_id` (default: the run in the playground), with its finished summary."""
        run_id = run_id or self.playground_run_id
        if run_id and run_id != self.run_id:  # type: ignore[attr-defined, has-type]
            self.follow(run_id)  # type: ignore[attr-defined]
        self.show("dashboard")  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ opening by itself
    def _watch_run(self, *_: Any) -> None:
        """A followed run seen training that then completes opens in the playground."""
        run_id, status = self.run_id, self.run_status  # type: ignore[attr-defined, has-type]
        if not run_id:
            return
        if status in ACTIVE_STATUSES:
            self._run_seen_active = run_id
        elif status == "completed" and self._run_seen_active == run_id:
            self._run_seen_active = ""
            self.open_run_in_playground(run_id)
