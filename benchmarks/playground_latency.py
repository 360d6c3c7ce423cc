"""Playground latency: time to first token and tokens/s, base vs tuned, on SmolLM2 (CPU) and a GPU when present.

The tuned model is SmolLM2 with a LoRA adapter (rank 16 on the attention projections) over the same loaded
copy; the base answer switches the adapter off. Prints one JSON line. Targets: first token < 1 s
(the requirement is < 5 s for models under 7B).

    python benchmarks/playground_latency.py [--model builtin:smollm2-135m] [--tokens 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="builtin:smollm2-135m")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model

    from peftstudio.models import load_model
    from peftstudio.playground import GenerationSettings, PlaygroundSession

    device = "cuda" if torch.cuda.is_available() else "cpu"
    with tempfile.TemporaryDirectory() as tmp:
        adapter = Path(tmp) / "adapter"
        torch.manual_seed(0)
        # LoRA's standard initialisation (B = 0): the adapter does all of its work at generation time but
        # leaves the answers unchanged, so both sides generate the same number of tokens
        get_peft_model(load_model(args.model), LoraConfig(r=16, lora_alpha=32,
                                                          target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
                       ).save_pretrained(adapter)
        session = PlaygroundSession(args.model, adapter, save_history=False)
        if device == "cuda":
            session.model.to("cuda")
        settings = GenerationSettings(temperature=0, max_new_tokens=args.tokens)
        prompt = "Tell me about the history of the bicycle."
        session.generate("warm up", GenerationSettings(temperature=0, max_new_tokens=4))
        results = {}
        for which, use_adapter in (("base", False), ("tuned", True)):
            runs = [session.generate(prompt, settings, use_adapter=use_adapter) for _ in range(args.repeats)]
            results[which] = {
                "first_token_s": round(statistics.median(r.first_token_seconds for r in runs), 4),
                "tokens_per_s": round(statistics.median(r.tokens_per_second for r in runs), 2),
                "tokens": runs[0].tokens,
            }
    line = {
        "benchmark": "playground_latency",
        "model": args.model,
        "device": device if device == "cpu" else torch.cuda.get_device_name(0),
        "threads": torch.get_num_threads(),
        **{f"{k}_{m}": v for k, r in results.items() for m, v in r.items()},
        "tuned_vs_base_tokens_per_s": round(results["tuned"]["tokens_per_s"] / results["base"]["tokens_per_s"], 3),
        "first_token_target_s": 1.0,
        "passed": max(r["first_token_s"] for r in results.values()) < 1.0,
    }
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
