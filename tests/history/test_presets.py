from __future__ import annotations

import json
from pathlib import Path

import pytest

from peftstudio.errors import PlainError
from peftstudio.history.presets import (
    Preset,
    dataset_reference,
    delete_preset,
    export_preset,
    get_preset,
    import_preset,
    list_presets,
    portable,
    preset_json,
    read_preset_bytes,
    save_preset,
)
from peftstudio.records import DatasetReference, ModelChoice
from peftstudio.store import open_store
from tests.history.helpers import config


def _data_file(tmp_path: Path) -> Path:
    path = tmp_path / "chat.jsonl"
    path.write_text('{"prompt": "hi", "response": "hello"}\n\n{"prompt": "a", "response": "b"}\n')
    return path


def test_save_measures_the_dataset_reference(tmp_path: Path) -> None:
    data = _data_file(tmp_path)
    cfg = config()
    cfg = type(cfg)(profile=cfg.profile, model=cfg.model, data=type(cfg.data)(path=str(data)))
    preset = save_preset("bot", cfg, tags=["support", "support", " "], notes="first try")
    assert preset.dataset is not None
    assert preset.dataset.rows == 2
    assert len(preset.dataset.sha256) == 64
    assert preset.tags == ("support",)
    assert get_preset("bot") == preset


def test_round_trip_on_a_clean_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = DatasetReference(path="data/chat.jsonl", sha256="ab" * 32, rows=300)
    saved = save_preset("support bot", config(learning_rate=1e-3, micro_batch_size=2), dataset=ref,
                        tags=["support", "v1"], notes="works well\nwith 300 rows")
    file, notes = export_preset("support bot", tmp_path / "shared.json")
    assert notes == []
    text = file.read_text()
    doc = json.loads(text)
    assert doc["schema_version"] == 2 and doc["kind"] == "preset"
    assert text == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"  # sorted, indented
    monkeypatch.setenv("PEFTSTUDIO_HOME", str(tmp_path / "other-home"))
    assert list_presets() == []
    result = import_preset(file)
    assert result.adjustments == ()
    assert get_preset("support bot") == saved == result.preset


def test_export_has_no_absolute_model_path(tmp_path: Path) -> None:
    cfg = config()
    cfg = type(cfg)(profile="chatbot", model=ModelChoice("/home/ann/models/my-llama"), data=cfg.data)
    save_preset("local", cfg)
    file, notes = export_preset("local", tmp_path / "p.json")
    text = file.read_text()
    assert "/home/ann" not in text and '"my-llama"' in text
    assert "my-llama" in notes[0]
    assert portable(get_preset("local"))[0].model == "my-llama"


def test_list_search_and_filters() -> None:
    save_preset("support bot", config(), tags=["Support"], notes="polite answers")
    other = config()
    other = type(other)(profile="code-generation", model=ModelChoice("builtin:smollm2-135m"), data=other.data)
    save_preset("coder", other, tags=["python"])
    names = lambda **kw: sorted(p.name for p in list_presets(**kw))
    assert names() == ["coder", "support bot"]
    assert names(search="POLITE") == ["support bot"]
    assert names(search="python") == ["coder"]
    assert names(search="smollm2") == ["coder"]
    assert names(profile="chatbot") == ["support bot"]
    assert names(model="builtin:smollm2-135m") == ["coder"]
    assert names(tag="support") == ["support bot"]
    assert names(tag="none") == []


def test_duplicate_name_refused_unless_replace() -> None:
    save_preset("p", config())
    with pytest.raises(PlainError, match="already exists"):
        save_preset("p", config(learning_rate=1e-3))
    save_preset("p", config(learning_rate=1e-3), replace=True)
    assert get_preset("p").config.training.learning_rate == 1e-3
    assert len(list_presets()) == 1


def test_delete_and_missing() -> None:
    save_preset("p", config())
    delete_preset("p")
    with pytest.raises(PlainError) as info:
        get_preset("p")
    assert info.value.code == "item_not_found"
    with pytest.raises(PlainError):
        delete_preset("p")


def test_save_refuses_bad_names() -> None:
    with pytest.raises(PlainError, match="needs a name"):
        save_preset("  ", config())
    with pytest.raises(PlainError, match="control characters"):
        save_preset("a\x00b", config())


def test_older_schema_is_migrated() -> None:
    doc = json.loads(preset_json(Preset(name="old", config=config())))
    doc["schema_version"] = 1
    doc["config"]["training"]["batch_size"] = doc["config"]["training"].pop("micro_batch_size")
    doc["config"]["lora"]["r"] = 4
    del doc["config"]["lora"]["rank"]
    preset = read_preset_bytes(json.dumps(doc).encode())
    assert preset.config.training.micro_batch_size == 4 and preset.config.lora.rank == 4


def test_shared_preset_cannot_turn_on_remote_code(tmp_path: Path) -> None:
    doc = json.loads(preset_json(Preset(name="x", config=config())))
    doc["config"]["model"]["trust_remote_code"] = True
    file = tmp_path / "x.json"
    file.write_text(json.dumps(doc))
    result = import_preset(file)
    assert result.preset.config.model.trust_remote_code is False
    assert [a.setting for a in result.adjustments] == ["model.trust_remote_code"]
    assert get_preset("x").config.model.trust_remote_code is False


def test_dataset_reference_counts_rows(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("prompt,response\na,b\nc,d\n")
    assert dataset_reference(csv).rows == 2
    js = tmp_path / "d.json"
    js.write_text('[{"a": 1}, {"a": 2}, {"a": 3}]')
    assert dataset_reference(js).rows == 3


def test_store_rows_match_the_record() -> None:
    save_preset("p", config(), tags=["a"])
    row = open_store().query("SELECT * FROM presets")[0]
    assert (row["name"], row["profile"], row["model"], json.loads(row["tags"])) == (
        "p", "chatbot", "builtin:tiny-llama", ["a"])


def test_check_import_shows_the_adjustments_and_stores_nothing(tmp_path, fresh_home) -> None:  # type: ignore[no-untyped-def]
    from peftstudio.hardware import simulated_hardware
    from peftstudio.history.presets import Preset, check_import, list_presets, preset_json
    from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings

    cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama", trust_remote_code=True),
                    data=DataSettings(path="chat.jsonl"), training=TrainingSettings(precision="bf16"))
    data = preset_json(Preset(name="shared", config=cfg)).encode()
    r = check_import(data, hardware=simulated_hardware())
    assert [a.setting for a in r.adjustments] == ["model.trust_remote_code", "training.precision"]
    assert r.preset.config.training.precision == "fp32" and not r.preset.config.model.trust_remote_code
    assert r.replaced is False and list_presets() == []  # nothing stored
    import_preset(data)
    assert check_import(data).replaced is True  # the same name would replace it
