"""Task profiles, as data: what a kind of fine-tuning needs, in words a beginner can read.

A profile sets the starting point of a plan: the context length it prefers, the LoRA shape,
the learning rate, epochs, the effective batch, how often to evaluate and which base models
suit it. The planner then fits these to the hardware and the data.

Example:
    >>> get_profile("code-generation").sequence_length
    2048
    >>> len(PROFILES) >= 8
    True
"""

from __future__ import annotations

from attrs import field, frozen

from peftstudio.errors import make
from peftstudio.tuples import as_tuple


@frozen
class Profile:
    """One task profile.

    `data_structures` are the data shapes (as the data check names them) that suit the task, the
    first being the usual one. `target` is ``"attention"`` (the attention projections, the light
    default) or ``"all"`` (every linear layer, for tasks that must learn new knowledge or style).
    `evaluations_per_epoch` sets the evaluation cadence. `playground_temperature` is the sampling
    temperature the playground starts with.

    Example:
        >>> p = get_profile("chatbot")
        >>> p.title, p.data_structures[0]
        ('Chatbot', 'chat')
    """

    id: str
    title: str
    description: str
    examples: tuple[str, ...] = field(converter=as_tuple)
    data_structures: tuple[str, ...] = field(converter=as_tuple)
    sequence_length: int
    lora_rank: int
    lora_alpha: int
    lora_dropout: float
    target: str
    learning_rate: float
    epochs: float
    effective_batch_size: int
    evaluations_per_epoch: int
    suggested_models: tuple[str, ...] = field(converter=as_tuple)
    playground_temperature: float = 0.7
    why_sequence: str = ""


PROFILES: tuple[Profile, ...] = (
    Profile(
        id="chatbot",
        title="Chatbot",
        description="Teach a model to hold a conversation in a given voice, with a given personality or about "
                    "a given subject, over several turns.",
        examples=("A friendly support assistant for your product", "A tutor that answers in simple words",
                  "A character that always stays in role"),
        data_structures=("chat", "sharegpt"),
        sequence_length=2048, lora_rank=16, lora_alpha=32, lora_dropout=0.05, target="attention",
        learning_rate=2e-4, epochs=3, effective_batch_size=16, evaluations_per_epoch=4,
        suggested_models=("qwen3-0.6b", "qwen3-1.7b", "llama-3.2-3b", "qwen3-8b"),
        why_sequence="long enough for a conversation of several turns",
    ),
    Profile(
        id="code-generation",
        title="Code generation",
        description="Teach a model to write code in your style, language or framework. Whitespace is kept "
                    "exactly, the chat template is the code model's own, and the playground answers with a low "
                    "temperature so code stays precise.",
        examples=("Generate SQL queries from questions about your database",
                  "Write functions using your internal library", "Complete code in a niche language"),
        data_structures=("chat", "prompt_completion", "alpaca"),
        sequence_length=2048, lora_rank=32, lora_alpha=64, lora_dropout=0.05, target="all",
        learning_rate=1e-4, epochs=3, effective_batch_size=16, evaluations_per_epoch=4,
        suggested_models=("qwen2.5-coder-1.5b", "qwen3-4b", "qwen3-8b"),
        playground_temperature=0.2,
        why_sequence="code files and their context are long",
    ),
    Profile(
        id="summarization",
        title="Summarization",
        description="Teach a model to turn long texts into short summaries of the length and style you want.",
        examples=("Summarize meeting notes into action items", "One-paragraph summaries of support tickets",
                  "Abstracts for reports"),
        data_structures=("prompt_completion", "alpaca", "chat"),
        sequence_length=2048, lora_rank=16, lora_alpha=32, lora_dropout=0.05, target="attention",
        learning_rate=2e-4, epochs=2, effective_batch_size=16, evaluations_per_epoch=4,
        suggested_models=("qwen3-1.7b", "llama-3.2-3b", "qwen3-8b"),
        playground_temperature=0.3,
        why_sequence="the whole text to summarize must fit",
    ),
    Profile(
        id="question-answering",
        title="Question answering",
        description="Teach a model to answer questions about your subject accurately and briefly.",
        examples=("Answer questions about your company's policies", "A FAQ assistant for a product",
                  "Short factual answers in a specialist field"),
        data_structures=("question_answer", "chat", "alpaca"),
        sequence_length=1024, lora_rank=16, lora_alpha=32, lora_dropout=0.05, target="attention",
        learning_rate=2e-4, epochs=3, effective_batch_size=16, evaluations_per_epoch=4,
        suggested_models=("gemma3-1b", "qwen3-1.7b", "smollm3-3b"),
        playground_temperature=0.3,
        why_sequence="a question with its answer is usually short",
    ),
    Profile(
        id="instruction-following",
        title="Instruction following",
        description="Teach a model to carry out many kinds of instructions in the format you want.",
        examples=("Rewrite text in a house style", "Extract fields from emails into a fixed format",
                  "Follow multi-step instructions reliably"),
        data_structures=("alpaca", "chat", "prompt_completion"),
        sequence_length=1024, lora_rank=16, lora_alpha=32, lora_dropout=0.05, target="all",
        learning_rate=2e-4, epochs=3, effective_batch_size=16, evaluations_per_epoch=4,
        suggested_models=("qwen3-1.7b", "phi-4-mini", "llama-3.1-8b"),
        why_sequence="an instruction with its answer fits in about a page",
    ),
    Profile(
        id="classification",
        title="Classification",
        description="Teach a model to put texts into your categories (sentiment, topic, priority), answering "
                    "with the label only.",
        examples=("Sort support tickets by urgency", "Tag reviews as positive, neutral or negative",
                  "Detect the language or topic of a message"),
        data_structures=("classification", "prompt_completion"),
        sequence_length=512, lora_rank=8, lora_alpha=16, lora_dropout=0.1, target="attention",
        learning_rate=3e-4, epochs=2, effective_batch_size=32, evaluations_per_epoch=4,
        suggested_models=("smollm2-135m", "qwen3-0.6b", "qwen3-1.7b"),
        playground_temperature=0.0,
        why_sequence="a text to classify is short and the answer is one label",
    ),
    Profile(
        id="creative-writing",
        title="Creative writing",
        description="Teach a model a style of writing: stories, poems, dialogue or marketing copy in your voice.",
        examples=("Short stories in an author's style", "Product descriptions in your brand voice",
                  "Song lyrics or poems of a given form"),
        data_structures=("prompt_completion", "chat", "text"),
        sequence_length=2048, lora_rank=32, lora_alpha=64, lora_dropout=0.05, target="all",
        learning_rate=1e-4, epochs=3, effective_batch_size=16, evaluations_per_epoch=2,
        suggested_models=("qwen3-1.7b", "llama-3.2-3b", "mistral-7b"),
        playground_temperature=0.9,
        why_sequence="stories need room",
    ),
    Profile(
        id="domain-adaptation",
        title="Domain adaptation",
        description="Let a model read plain text from your field (manuals, papers, notes) so it learns the "
                    "vocabulary and facts of that domain.",
        examples=("Medical or legal vocabulary", "Your product's documentation",
                  "An internal wiki"),
        data_structures=("text",),
        sequence_length=2048, lora_rank=64, lora_alpha=128, lora_dropout=0.05, target="all",
        learning_rate=1e-4, epochs=1, effective_batch_size=32, evaluations_per_epoch=4,
        suggested_models=("qwen3-1.7b", "llama-3.2-3b", "qwen3-8b"),
        playground_temperature=0.7,
        why_sequence="long passages of text are packed together",
    ),
)

_BY_ID = {p.id: p for p in PROFILES}


def profile_ids() -> list[str]:
    """The ids of every profile, in display order."""
    return [p.id for p in PROFILES]


def get_profile(profile_id: str) -> Profile:
    """The profile with this id; a plain ``config_invalid`` error listing the ids otherwise.

    Example:
        >>> get_profile("summarization").title
        'Summarization'
    """
    try:
        return _BY_ID[profile_id]
    except KeyError:
        raise make("config_invalid",
                   problems=f"profile: unknown profile {profile_id!r}; choose one of {', '.join(_BY_ID)}") from None


__all__ = ["PROFILES", "Profile", "get_profile", "profile_ids"]
