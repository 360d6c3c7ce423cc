"""A corpus of hostile preset files: each is refused with a plain message naming the problem, with no
traceback, and the presets library is exactly as it was before."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from peftstudio.cli.main import main
from peftstudio.errors import PlainError
from peftstudio.history.presets import Preset, import_preset, list_presets, preset_json, save_preset
from peftstudio.records import DatasetReference
from peftstudio.store import open_store
from tests.history.helpers import config


def _good() -> dict:
    preset = Preset(name="shared", config=config(), tags=("x",),
                    dataset=DatasetReference(path="data/chat.jsonl", sha256="ab" * 32, rows=10))
    return json.loads(preset_json(preset))


def _edit(fn: Callable[[dict], None]) -> bytes:
    doc = _good()
    fn(doc)
    return json.dumps(doc).encode()


def _set(path: str, value: object) -> Callable[[dict], None]:
    def apply(doc: dict) -> None:
        *parents, last = path.split(".")
        for p in parents:
            doc = doc[p]
        doc[last] = value
    return apply


# name -> (bytes of the file, error code, words the message must contain)
CORPUS: dict[str, tuple[bytes, str, str]] = {
    "newer schema": (_edit(_set("schema_version", 99)), "newer_format", "newer PEFT Studio"),
    "schema version of a wrong type": (_edit(_set("schema_version", "two")), "config_invalid", "schema_version"),
    "wrong type": (_edit(_set("config.training.learning_rate", "fast")), "config_invalid",
                   "config.training.learning_rate: expected a number"),
    "wrong type deep": (_edit(_set("config.lora.target_modules", [1])), "config_invalid",
                        "config.lora.target_modules[0]"),
    "text where a list belongs": (_edit(_set("tags", "abc")), "config_invalid", "tags: expected a list"),
    "value not allowed": (_edit(_set("config.training.precision", "fp64")), "config_invalid",
                          "precision: expected one of fp32, fp16, bf16"),
    "negative": (_edit(_set("config.training.micro_batch_size", -4)), "config_invalid", "micro_batch_size"),
    "unknown key at the top": (_edit(_set("payload", "rm -rf /")), "config_invalid", "payload: unknown setting"),
    "unknown key nested": (_edit(_set("config.training.lr", 1)), "config_invalid",
                           "config.training.lr: unknown setting"),
    "missing setting": (_edit(lambda d: d["config"].pop("model")), "config_invalid", "config.model"),
    "another kind": (_edit(_set("kind", "run_config")), "config_invalid", "not a preset"),
    "not an object": (b"[1, 2, 3]", "config_invalid", "expected a JSON object"),
    "NUL in the data path": (_edit(_set("dataset.path", "data\u0000/../../etc/passwd")), "config_invalid",
                             "dataset.path: contains control characters"),
    "escape codes in the data path": (_edit(_set("config.data.path", "\u001b[2Jchat.jsonl")), "config_invalid",
                                      "config.data.path: contains control characters"),
    "right-to-left trick in the name": (_edit(_set("name", "evil\u202egpj.exe")), "config_invalid",
                                        "name: contains control characters"),
    "path too long": (_edit(_set("dataset.path", "a/" * 3000)), "config_invalid", "longer than"),
    "fake fingerprint": (_edit(_set("dataset.sha256", "../../x")), "config_invalid", "dataset.sha256"),
    "invalid UTF-8": (preset_json(Preset(name="caf\u00e9", config=config())).encode("latin-1"), "config_invalid",
                      "not UTF-8"),
    "not JSON": (b"name: shared\n", "config_invalid", "not valid JSON"),
    "NaN": (json.dumps(_good()).replace('"learning_rate": 0.0002', '"learning_rate": NaN').encode(),
            "config_invalid", "NaN is not a number"),
    "deeply nested": (b'{"notes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "config_invalid",
                      "nested more than"),
    # under the size limit, so it reaches the parser: 60,000 copies of one key in one object
    "repeated-key bomb": (b"{" + b'"name": "x", ' * 60_000 + b'"name": "x"}', "config_invalid",
                          "60001 keys, more than the 1000 allowed"),
    "repeated key": (b'{"name": "a", "name": "b"}', "config_invalid", 'the key "name" appears more than once'),
}


@pytest.fixture
def library() -> list:
    save_preset("mine", config(), tags=["keep"], notes="do not touch")
    save_preset("shared", config(learning_rate=1e-3))  # same name as the hostile files
    return list_presets()


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_hostile_file_refused_and_nothing_changes(case: str, tmp_path: Path, library: list) -> None:
    data, code, words = CORPUS[case]
    file = tmp_path / "hostile.json"
    file.write_bytes(data)
    with pytest.raises(PlainError) as info:
        import_preset(file, replace=True)
    assert info.value.code == code
    assert words in info.value.info.explanation
    assert list_presets() == library


def test_fifty_megabyte_file_refused_before_reading(tmp_path: Path, library: list) -> None:
    file = tmp_path / "huge.json"
    with open(file, "wb") as fh:
        fh.write(b'{"name": "')
        fh.truncate(50 * 2**20)  # sparse: 50 MB on paper, instant to make
    with pytest.raises(PlainError, match="50.0 MB, more than the 1.0 MB"):
        import_preset(file)
    assert list_presets() == library


def test_special_files_refused(tmp_path: Path, library: list) -> None:
    with pytest.raises(PlainError, match="not a regular file"):
        import_preset(tmp_path)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(PlainError, match="not a regular file"):
        import_preset(fifo)  # would block forever if it were opened
    with pytest.raises(PlainError) as info:
        import_preset(tmp_path / "missing.json")
    assert info.value.code == "file_not_found"
    assert list_presets() == library


def test_dataset_path_is_only_a_reference(tmp_path: Path) -> None:
    """A path that points elsewhere is kept as text: never opened, created or resolved."""
    fifo = tmp_path / "trap"
    os.mkfifo(fifo)  # opening it for reading would hang the import
    outside = tmp_path / "not-created" / "x.jsonl"
    for i, path in enumerate([str(fifo), str(outside), "../../../../etc/passwd", "~/secret.jsonl"]):
        doc = _good()
        doc["name"] = f"ref {i}"
        doc["dataset"]["path"] = doc["config"]["data"]["path"] = path
        file = tmp_path / f"p{i}.json"
        file.write_text(json.dumps(doc))
        done: list = []
        worker = threading.Thread(target=lambda done=done, file=file: done.append(import_preset(file)),
                                  daemon=True)
        worker.start()
        worker.join(timeout=20)
        assert done, f"importing a preset with data path {path!r} hung: it opened the file"
        assert done[0].preset.dataset.path == path
    assert not outside.parent.exists()


@pytest.mark.parametrize("case", ["newer schema", "unknown key nested", "NUL in the data path",
                                  "repeated-key bomb", "deeply nested", "invalid UTF-8"])
def test_cli_import_gives_a_plain_message(case: str, tmp_path: Path, library: list,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data, code, words = CORPUS[case]
    file = tmp_path / "hostile.json"
    file.write_bytes(data)
    assert main(["presets", "import", str(file), "--no-adjust"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Something went wrong" not in err
    assert words in " ".join(err.split())
    assert main(["presets", "import", str(file), "--no-adjust", "--json"]) == 2
    payload = json.loads(capsys.readouterr().err)
    assert payload["error"]["code"] == code
    assert list_presets() == library
    assert open_store().query("SELECT COUNT(*) AS n FROM presets")[0]["n"] == 2
