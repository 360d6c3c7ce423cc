"""The model card (README.md) of a Hugging Face export: front matter for the Hub, then plain sections.

Example:
    >>> text = model_card("my-bot", "builtin:tiny-llama", CardInfo(license="apache-2.0"), merged=True)
    >>> text.splitlines()[0], "base_model: builtin:tiny-llama" in text
    ('---', True)
"""

from __future__ import annotations

import json

from peftstudio.export.records import CardInfo


def _yaml(value: str) -> str:
    # JSON strings are valid YAML scalars and need no further quoting rules.
    return json.dumps(value, ensure_ascii=False)


def model_card(name: str, base_model: str, info: CardInfo, *, merged: bool) -> str:
    """The README.md text for an export of `name`, tuned from `base_model`."""
    front = ["---", f"base_model: {base_model}", f"license: {info.license}",
             f"library_name: {'transformers' if merged else 'peft'}", "pipeline_tag: text-generation",
             "tags:", "  - peftstudio", "  - lora"]
    if info.datasets:
        front += ["datasets:"] + [f"  - {_yaml(d)}" for d in info.datasets]
    if info.quality_score is not None or info.metrics:
        front += ["model-index:", f"  - name: {_yaml(name)}", "    results: []"]
    front.append("---")
    title = info.title or name
    body = [f"# {title}", "",
            f"A LoRA fine-tune of `{base_model}` made with PEFT Studio"
            + (f" for the *{info.profile}* task." if info.profile else "."),
            "", "## Intended use and limits", "",
            info.intended_use or "Try it on tasks like those in its training data before relying on it.",
            "",
            info.limitations or "A small fine-tune inherits the base model's limits and can state wrong things "
                                "confidently. It was not evaluated for safety; review its answers.",
            ""]
    if info.datasets:
        body += ["## Training data", ""] + [f"- {d}" for d in info.datasets] + [""]
    if info.training:
        body += ["## Training settings", "", "| setting | value |", "|---|---|"]
        body += [f"| {k} | {v} |" for k, v in info.training.items()] + [""]
    if info.metrics or info.quality_score is not None:
        body += ["## Results", "", "| metric | value |", "|---|---|"]
        if info.quality_score is not None:
            body.append(f"| quality score | {info.quality_score:g} |")
        body += [f"| {k} | {v:.4g} |" for k, v in info.metrics.items()] + [""]
    body += ["## How to load it", "", "```python"]
    if merged:
        body += ["from transformers import AutoModelForCausalLM, AutoTokenizer",
                 'model = AutoModelForCausalLM.from_pretrained("path/to/this/folder")',
                 'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")']
    else:
        body += ["from peft import PeftModel",
                 "from transformers import AutoModelForCausalLM, AutoTokenizer",
                 f'base = AutoModelForCausalLM.from_pretrained("{base_model}")',
                 'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
                 'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")']
    body += ['messages = [{"role": "user", "content": "Hello!"}]',
             ("ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors=\"pt\","
              " return_dict=True)"),
             "print(tokenizer.decode(model.generate(**ids, max_new_tokens=64)[0]))", "```", ""]
    return "\n".join(front + body)
