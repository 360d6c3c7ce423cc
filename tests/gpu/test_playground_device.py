"""Issue 23 point 10: the playground runs on the GPU in 16 bits (CPU stays fp32)."""

from __future__ import annotations

import pytest
import torch

from peftstudio.playground import session as playground
from peftstudio.playground.session import GenerationSettings, PlaygroundSession, inference_placement


@pytest.mark.parametrize(("cuda", "bf16", "expected"), [
    (True, True, ("cuda:0", torch.bfloat16)),
    (True, False, ("cuda:0", torch.float16)),
    (False, None, ("cpu", torch.float32)),
])
def test_placement(cuda: bool, bf16: bool | None, expected: tuple[str, torch.dtype]) -> None:
    assert inference_placement(cuda=cuda, bf16=bf16) == expected


def test_session_loads_in_the_placements_dtype_and_feeds_inputs_to_its_device(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # stand-in for a GPU: the placement is what a bf16 card gets, on the CPU device
    monkeypatch.setattr(playground, "inference_placement", lambda: ("cpu", torch.bfloat16))
    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    assert next(session.model.parameters()).dtype == torch.bfloat16
    seen: list[torch.device] = []
    generate = session.model.generate

    def spy(**kw: object) -> object:
        seen.append(kw["input_ids"].device)  # type: ignore[union-attr]
        return generate(**kw)

    monkeypatch.setattr(session.model, "generate", spy)
    answer = session.generate("hello", GenerationSettings(max_new_tokens=3))
    assert seen == [torch.device(session.device)] and answer.tokens >= 1
    assert session.logits("hello").dtype == torch.float32
