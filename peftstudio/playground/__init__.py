"""The playground: tuned and base answers side by side from one loaded model, and the chat history."""

from peftstudio.playground.examples import (
    PROFILE_EXAMPLES,
    profile_examples,
    prompts_from_conversations,
    run_example_prompts,
)
from peftstudio.playground.resolve import TunedModel, open_playground, resolve_tuned, run_adapter_dir
from peftstudio.playground.session import (
    Answer,
    Exchange,
    GenerationSettings,
    PlaygroundSession,
    chat_history,
    export_history,
    is_completion_run,
    save_exchange,
    search_history,
)

__all__ = [
    "PROFILE_EXAMPLES",
    "Answer",
    "Exchange",
    "GenerationSettings",
    "PlaygroundSession",
    "TunedModel",
    "chat_history",
    "export_history",
    "is_completion_run",
    "open_playground",
    "profile_examples",
    "prompts_from_conversations",
    "resolve_tuned",
    "run_adapter_dir",
    "run_example_prompts",
    "save_exchange",
    "search_history",
]
