"""Example prompts for the playground: a few per task profile, and some from the run's own data.

Example:
    >>> len(profile_examples("code-generation")) >= 3
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from peftstudio.records.config import RunConfig

PROFILE_EXAMPLES: dict[str, tuple[str, ...]] = {
    "chatbot": ("Hi! What can you help me with?", "Can you tell me a fun fact about the ocean?",
                "I feel tired today. Any advice?"),
    "code-generation": ("Write a Python function that reverses a string.",
                        "Write a SQL query that counts orders per customer.",
                        "Explain what this does: [x * 2 for x in range(5)]"),
    "summarization": (("Summarize: The town council met on Monday and agreed to repair the old bridge before "
                       "winter. Work starts next month and will close the road for two weeks."),
                      "Give a one-sentence summary of why people sleep.",
                      "Summarize the main idea of saving money every month."),
    "question-answering": ("What is the capital of France?", "Why is the sky blue?",
                           "How many legs does a spider have?"),
    "instruction-following": ("List three healthy breakfast ideas.", "Rewrite this more politely: send it now.",
                              "Give me two tips for a job interview, as bullet points."),
    "classification": ("Classify the sentiment: I loved this film, it was wonderful!",
                       "Classify the sentiment: The delivery was late and the box was broken.",
                       "Classify the topic: The team scored twice in the final minutes."),
    "creative-writing": ("Write a four-line poem about autumn.", "Begin a story about a lighthouse keeper.",
                         "Describe a city on the moon in three sentences."),
    # Domain adaptation trains on plain text, so its playground continues text: beginnings, not questions.
    "domain-adaptation": ("The most important idea in this field is", "A beginner should first learn",
                          "In simple words, the key term means"),
}

#: Beginnings of text for a base model or a run trained on plain text, which continue what they are given.
COMPLETION_EXAMPLES: tuple[str, ...] = ("The capital of France is", "Once upon a time, in a small harbour town,",
                                        "Three things to know before your first day at work:")


def profile_examples(profile: str, *, completion: bool = False) -> tuple[str, ...]:
    """Example prompts for a profile (the chatbot's when the profile is unknown); with `completion`,
    beginnings of text to continue (the profile's own when it trains on plain text).

    Example:
        >>> profile_examples("chatbot", completion=True)[0]
        'The capital of France is'
    """
    if completion and profile != "domain-adaptation":
        return COMPLETION_EXAMPLES
    return PROFILE_EXAMPLES.get(profile, PROFILE_EXAMPLES["chatbot"])


def run_example_prompts(config: RunConfig, n_from_data: int = 3) -> list[str]:
    """Example prompts for a run: its profile's, then up to `n_from_data` from its own validation data.

    The data part is skipped (with the profile's prompts kept) when the data file is no longer readable.
    """
    from peftstudio.data.build import validation_prompts
    from peftstudio.errors import PlainError
    from peftstudio.playground.session import is_completion_run

    completion = is_completion_run(config)
    prompts = list(profile_examples(config.profile, completion=completion))
    try:  # held-out chat turns; plain text has none
        held_out = [] if completion else validation_prompts(config.data, config.training.seed, n_from_data)
    except (OSError, PlainError):
        held_out = []
    return prompts + [p for p in held_out if p not in prompts]


def prompts_from_conversations(conversations: Iterable[Sequence[dict[str, str]]], n: int = 3) -> list[str]:
    """The first user message of up to `n` conversations (e.g. the run's validation examples)."""
    out: list[str] = []
    for messages in conversations:
        for m in messages:
            if m.get("role") == "user" and m.get("content", "").strip():
                text = m["content"].strip()
                if text not in out:
                    out.append(text)
                break
        if len(out) >= n:
            break
    return out
