"""Records: JSON round trips, migrations, and plain messages for bad documents."""

from __future__ import annotations

import json

import pytest

from peftstudio.errors import Action, ErrorInfo
from peftstudio.records import (
    SCHEMA_VERSION,
    DatasetReference,
    DatasetStats,
    DataSettings,
    GpuInfo,
    HardwareProfile,
    LoraSettings,
    ModelChoice,
    RecordError,
    RunConfig,
    Setting,
    TrainingSettings,
    convert,
)


def _config() -> RunConfig:
    return RunConfig(
        profile="chatbot",
        model=ModelChoice("builtin:tiny-llama"),
        data=DataSettings(path="chat.jsonl", column_mapping={"prompt": "q"},
                          reference=DatasetReference("chat.jsonl", "ab" * 32, 12)),
        lora=LoraSettings(rank=8, alpha=16, target_modules=("q_proj", "v_proj")),
        training=TrainingSettings(learning_rate=1e-3, max_steps=10, precision="bf16", quantization="4bit"),
        name="my run",
    )


RECORDS = [
    _config(),
    ModelChoice("meta-llama/Llama-3.1-8B-Instruct", trust_remote_code=True),
    LoraSettings(),
    TrainingSettings(),
    DataSettings(path="x.csv"),
    DatasetReference("x.csv", "00" * 32, 3),
    DatasetStats(rows=3, tokens_min=1, tokens_median=2, tokens_p95=3, tokens_max=4, tokens_total=9),
    Setting(value=4, reason="fits", source="user", warning="tight"),
    Setting(value="bf16", reason="your GPU supports it"),
    Setting(value=None, reason="not needed"),
    HardwareProfile(cpu_cores=2, ram_total_bytes=1, ram_available_bytes=1, disk_free_bytes=1,
                    gpus=(GpuInfo(name="H100", memory_total_bytes=80, memory_free_bytes=70, bf16=True),)),
    ErrorInfo(code="x", title="t", explanation="e", actions=(Action("a", fix_id="f"), Action("b", steps=("s",)))),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_record_round_trips_through_json(record: object) -> None:
    text = convert.dumps(record)
    doc = json.loads(text)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert convert.loads(type(record), text) == record


def test_records_are_frozen() -> None:
    cfg = _config()
    with pytest.raises(AttributeError):
        cfg.name = "other"  # type: ignore[misc]


def test_old_version_file_is_migrated(tmp_path) -> None:
    cfg = _config()
    doc = json.loads(convert.dumps(cfg))
    doc["schema_version"] = 1
    doc["training"]["batch_size"] = doc["training"].pop("micro_batch_size")
    doc["lora"]["r"] = doc["lora"].pop("rank")
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    assert convert.load(RunConfig, path) == cfg


def test_newer_version_is_refused_with_upgrade_message() -> None:
    doc = json.loads(convert.dumps(_config()))
    doc["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(RecordError) as err:
        convert.from_document(RunConfig, doc)
    assert err.value.newer
    assert "newer PEFT Studio" in err.value.problems[0] and "Upgrade" in err.value.problems[0]


def test_unknown_key_names_the_field() -> None:
    doc = json.loads(convert.dumps(_config()))
    doc["training"]["learning_rat"] = 0.1
    with pytest.raises(RecordError) as err:
        convert.from_document(RunConfig, doc)
    assert err.value.problems == [
        err.value.problems[0]
    ] and err.value.problems[0].startswith("training.learning_rat: unknown setting; allowed here: learning_rate")


def test_wrong_type_names_the_field_and_an_example() -> None:
    doc = json.loads(convert.dumps(_config()))
    doc["training"]["learning_rate"] = "fast"
    with pytest.raises(RecordError) as err:
        convert.from_document(RunConfig, doc)
    assert err.value.problems == ['training.learning_rate: expected a number such as 0.0002, got "fast"']


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("training", "micro_batch_size"), "4", "training.micro_batch_size: expected a whole number such as 4"),
        (("training", "packing"), 1, "training.packing: expected true or false, got 1"),
        (("training", "precision"), "fp8", "precision: expected one of fp32, fp16, bf16"),
        (("lora", "rank"), 0, "lora.rank: expected a number above 0"),
        (("model", "reference"), 5, "model.reference: expected text"),
        (("lora", "target_modules"), ["q_proj", 3], "lora.target_modules[1]: expected text"),
    ],
)
def test_bad_values_are_named(path: tuple[str, str], value: object, expected: str) -> None:
    doc = json.loads(convert.dumps(_config()))
    doc[path[0]][path[1]] = value
    with pytest.raises(RecordError) as err:
        convert.from_document(RunConfig, doc)
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_missing_required_field_is_named() -> None:
    doc = json.loads(convert.dumps(_config()))
    del doc["model"]["reference"]
    with pytest.raises(RecordError) as err:
        convert.from_document(RunConfig, doc)
    assert err.value.problems == ["model.reference: this setting is required but missing"]


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(RecordError, match="not valid JSON"):
        convert.loads(RunConfig, b"{oops")
    with pytest.raises(RecordError, match="expected an object"):
        convert.loads(RunConfig, b"[1, 2]")


def test_effective_batch() -> None:
    assert TrainingSettings(micro_batch_size=2, gradient_accumulation=3, devices=2).effective_batch_size == 12


def test_text_where_a_list_belongs_is_refused_not_split() -> None:
    doc = json.loads(convert.dumps(_config()))
    doc["lora"]["target_modules"] = "q_proj"
    with pytest.raises(RecordError) as err:
        convert.from_document(RunConfig, doc)
    assert err.value.problems == ['lora.target_modules: expected a list, got "q_proj"']
