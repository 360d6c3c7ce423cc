"""The one settings schema: complete, in step with the records, the planner, the glossary, the CLI and the docs."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

from peftstudio.cli.main import main
from peftstudio.errors import PlainError
from peftstudio.glossary import lookup
from peftstudio.hardware import simulated_hardware
from peftstudio.planner import plan
from peftstudio.records import DataSettings, ModelChoice, RunConfig
from peftstudio.settings import (
    OTHER_FIELDS,
    PLANNED,
    SETTINGS,
    apply_settings,
    check_value,
    defaults,
    parse_overrides,
    read_settings,
    settings_schema,
    settings_table,
    spec,
    spec_at,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="d.jsonl"))


def leaf_paths(cls: Any, prefix: str = "") -> set[str]:
    """Every field of a record that holds a value (records inside records are walked into)."""
    out: set[str] = set()
    hints = typing.get_type_hints(cls)
    for a in attrs.fields(cls):
        path = f"{prefix}{a.name}"
        records = [t for t in (typing.get_args(hints[a.name]) or (hints[a.name],)) if attrs.has(t)]
        out |= leaf_paths(records[0], path + ".") if records else {path}
    return out


def test_every_run_config_field_is_a_setting_or_named_as_chosen_elsewhere() -> None:
    """Adding a field to RunConfig fails here until the schema (or OTHER_FIELDS) says what it is."""
    paths = [s.path for s in SETTINGS if s.path]
    assert len(paths) == len(set(paths)) and len({s.key for s in SETTINGS}) == len(SETTINGS)
    assert not set(paths) & set(OTHER_FIELDS)
    assert leaf_paths(RunConfig) == set(paths) | set(OTHER_FIELDS)
    assert "training.learning_rate" in paths and "lora.target_modules" in paths  # the walk did find the fields


@attrs.frozen
class Extra:
    rate: float = 0.1


@attrs.frozen
class Bigger:
    extra: Extra | None = None
    plain: int = 1


def test_the_walk_finds_a_new_field() -> None:
    assert leaf_paths(Bigger) == {"extra.rate", "plain"}


def test_a_plan_holds_exactly_the_planned_settings_and_its_run_config_holds_their_values() -> None:
    p = plan(simulated_hardware("RTX 3060 12GB"), "builtin:tiny-llama", "chatbot", overrides=["lora_rank=4"])
    assert list(p.settings) == [s.key for s in PLANNED]
    stored = read_settings(p.run_config("d.jsonl"), planned=True)
    assert stored == {k: s.value for k, s in p.settings.items() if not spec(k).read_only}
    assert stored["lora_rank"] == 4


@pytest.mark.parametrize("s", SETTINGS, ids=lambda s: s.key)
def test_each_setting_is_described(s: Any) -> None:
    assert s.label and s.help.endswith(".") and s.label[0].isupper()
    if s.term:
        assert lookup(s.term) is not None, f"{s.term} is not in the glossary"
    if s.kind == "choice":
        assert s.choices


@pytest.mark.parametrize("s", [s for s in SETTINGS if not s.read_only], ids=lambda s: s.key)
def test_what_the_schema_accepts_a_run_config_accepts(s: Any) -> None:
    """Each choice, each edge of each range and each default goes through `--set` parsing and into a
    RunConfig; what the schema refuses is a plain error naming the setting."""
    start = defaults()[s.key]
    candidates: list[Any] = [*s.choices, start]
    for edge in (s.minimum, s.maximum):
        if edge is not None:
            candidates += [edge - 1, edge, edge + 0.5, edge + 1] if s.kind == "number" else [edge - 1, edge, edge + 1]
    if s.kind == "boolean":
        candidates += [True, False, "yes", "off"]
    if s.empty:
        candidates.append("")
    candidates.append("no such value")
    accepted = 0
    for value in candidates:
        try:
            typed = check_value(s.key, value)
        except PlainError as exc:
            assert exc.code == "config_invalid" and exc.info.explanation.startswith(f"{s.key}: ")
            continue
        accepted += 1
        config = apply_settings(BASE, {s.key: typed})  # the record's own checks pass
        assert read_settings(config)[s.key] == typed
    assert accepted >= 2


@pytest.mark.parametrize("s", [s for s in PLANNED if not s.read_only], ids=lambda s: s.key)
def test_each_default_written_as_text_reads_back_through_set(s: Any) -> None:
    value = defaults()[s.key]
    text = "" if value is None else ",".join(value) if isinstance(value, tuple) else str(value)
    assert parse_overrides([f"{s.key}={text}"]) == {s.key: read_settings(BASE)[s.key]}


@pytest.mark.parametrize(("item", "words"), [
    ("steps=10", "use max_steps"), ("devices=0", "above 0"), ("lora.rank=8", "unknown setting"),
    ("target_modules=q_proj,,v_proj", "names separated by commas"), ("warmup_ratio=1", "not including"),
    ("weight_decay=-0.1", "0 or more"), ("lr_scheduler=fast", "one of cosine, linear, constant")])
def test_set_refuses_with_a_plain_message(item: str, words: str) -> None:
    with pytest.raises(PlainError) as err:
        parse_overrides([item])
    assert err.value.code == "config_invalid" and words in err.value.info.explanation


def test_one_spelling_from_run_config_paths_to_keys() -> None:
    assert spec_at("lora.target_modules").key == "target_modules"  # type: ignore[union-attr]
    assert parse_overrides({"target_modules": " q_proj , v_proj "}) == {"target_modules": "q_proj,v_proj"}
    assert apply_settings(BASE, {"target_modules": "q_proj,v_proj", "steps": 12}).lora.target_modules == \
        ("q_proj", "v_proj")


def test_the_schema_is_served_as_json_data(capsys: pytest.CaptureFixture[str]) -> None:
    rows = settings_schema()
    assert json.loads(json.dumps(rows)) == rows
    assert [r["key"] for r in rows] == [s.key for s in SETTINGS]
    by_key = {r["key"]: r for r in rows}
    assert by_key["quantization"]["choices"] == ["none", "8bit", "4bit"] and by_key["quantization"]["main"]
    assert by_key["lora_rank"]["path"] == "lora.rank" and by_key["lora_rank"]["default"] == 16
    assert by_key["steps"]["read_only"] and by_key["max_steps"]["empty"] == "no limit"
    assert by_key["learning_rate"]["glossary"] == "learning-rate"
    assert main(["config", "settings", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == rows


def test_the_docs_table_is_the_schema_s(capsys: pytest.CaptureFixture[str]) -> None:
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    # regenerate with: python -m peftstudio.cli.main config settings (paste between the markers)
    table = page.split("<!-- settings table -->\n", 1)[1].split("<!-- end of settings table -->", 1)[0]
    assert table.strip() == settings_table().strip()
    assert main(["config", "settings"]) == 0
    assert capsys.readouterr().out == settings_table()


def test_the_schema_sits_low_in_the_layers() -> None:
    import ast

    for path in (ROOT / "peftstudio" / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("peftstudio."):
                assert node.module.split(".")[1] in ("settings", "records", "errors", "glossary", "tuples"), \
                    f"{path.name} imports {node.module}"
