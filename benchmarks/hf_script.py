"""The Hugging Face baseline as a user would write it: `Trainer` + PEFT LoRA on a chat file, loss on the
answers only, batches padded to their longest example (dynamic padding), one epoch, the adapter saved.

Run as its own process by `benchmarks/throughput.py --end-to-end`, which times it from start to exit:

    .venv/bin/python benchmarks/hf_script.py MODEL_FOLDER DATA.jsonl OUT [--seq 256] [--batch 4] [--lr 2e-4]
        [--rank 16] [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
import time

START = time.time()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--holdout", type=int, default=10, help="keep every Nth row aside, as ours keeps 10%% for "
                                                                 "validation (0: train on all)")
    a = parser.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=a.rank, lora_alpha=2 * a.rank, lora_dropout=0.05,
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                                             task_type="CAUSAL_LM"))
    examples = []
    with open(a.data, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if a.holdout and i % a.holdout == a.holdout - 1:
                continue
            messages = json.loads(line)["messages"]
            prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=True,
                                                   return_dict=True)["input_ids"]
            full = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
            ids = list(full)[: a.seq]
            labels = [-100] * min(len(prompt), len(ids)) + ids[len(prompt):]
            examples.append({"input_ids": ids, "labels": labels})
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def collate(batch: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(e["input_ids"]) for e in batch)
        return {"input_ids": torch.tensor([e["input_ids"] + [pad] * (width - len(e["input_ids"])) for e in batch]),
                "labels": torch.tensor([e["labels"] + [-100] * (width - len(e["labels"])) for e in batch]),
                "attention_mask": torch.tensor([[1] * len(e["input_ids"]) + [0] * (width - len(e["input_ids"]))
                                                for e in batch])}

    tokens = {"useful": 0, "first_step": None}

    class Stamp(TrainerCallback):
        def on_step_end(self, args: object, state: object, control: object, **kw: object) -> None:
            if tokens["first_step"] is None:
                tokens["first_step"] = time.time() - START

    args = TrainingArguments(output_dir=a.out, per_device_train_batch_size=a.batch, learning_rate=a.lr,
                             num_train_epochs=a.epochs, lr_scheduler_type="cosine",
                             warmup_steps=int(0.03 * len(examples) * a.epochs / a.batch),
                             logging_strategy="no", save_strategy="no", eval_strategy="no", report_to=[],
                             use_cpu=not torch.cuda.is_available(), seed=a.seed, disable_tqdm=True,
                             remove_unused_columns=False)
    trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=collate, callbacks=[Stamp()])
    loop_start = time.time()
    trainer.train()
    loop = time.time() - loop_start
    model.save_pretrained(a.out)
    useful = sum(len(e["input_ids"]) for e in examples)
    print(json.dumps({"first_step_s": tokens["first_step"], "loop_s": loop, "useful_tokens": useful}))


if __name__ == "__main__":
    main()
