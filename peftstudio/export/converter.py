"""llama.cpp's own converter and quantizer, from the release our pinned llama-cpp-python is built from.

`install()` fetches the llama-cpp-python source distribution of the installed version with pip and keeps
only the converter (``convert_hf_to_gguf.py``, ``convert_lora_to_gguf.py``, ``conversion/``, ``gguf-py/``)
in a cache folder; `convert()` runs it in a subprocess with its own ``gguf-py`` first on the import path,
so the converter and the llama.cpp that tests the export always agree. `quantize()` calls llama.cpp's
quantizer in process.

Example:
    >>> QUANTS["q4_k_m"].ftype_name
    'LLAMA_FTYPE_MOSTLY_Q4_K_M'
    >>> converter_folder("0.3.36").name
    'llama.cpp-0.3.36'
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from peftstudio.errors import make
from peftstudio.export.records import QUANTS
from peftstudio.export.source import ProgressFn, report

_KEEP = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "conversion/", "gguf-py/")
_VERSION_FILE = "LLAMA_CPP_PYTHON_VERSION"




def installed_version() -> str | None:
    """The installed llama-cpp-python's version, or None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llama-cpp-python")
    except PackageNotFoundError:
        return None


def cache_root() -> Path:
    """Where converters are kept: ``PEFTSTUDIO_LLAMA_CPP_DIR`` or the user cache folder."""
    env = os.environ.get("PEFTSTUDIO_LLAMA_CPP_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("peftstudio")) / "llama-cpp"


def converter_folder(version: str) -> Path:
    return cache_root() / f"llama.cpp-{version}"


def _missing(detail: str) -> Exception:
    return make("export_tools_missing", detail=detail)


def install(version: str | None = None, *, quiet: bool = True) -> Path:
    """Fetch llama.cpp's converter for `version` (default: the installed llama-cpp-python) with pip and
    keep it in the cache folder; its folder. Does nothing when it is already there.

    Example:
        >>> install()  # doctest: +SKIP
        PosixPath('/home/me/.cache/peftstudio/llama-cpp/llama.cpp-0.3.36')
    """
    version = version or installed_version()
    if version is None:
        raise _missing("llama-cpp-python is not installed.")
    target = converter_folder(version)
    if (target / _VERSION_FILE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               f"llama-cpp-python=={version}", "-d", tmp] + (["--quiet"] if quiet else [])
        done = subprocess.run(cmd, capture_output=quiet, text=True)
        sdists = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if done.returncode != 0 or not sdists:
            raise _missing(f"pip could not download llama-cpp-python {version}'s source: "
                           f"{(done.stderr or '').strip()[-300:]}")
        staged = Path(tmp) / "staged"
        _extract(sdists[0], staged)
        (staged / _VERSION_FILE).write_text(version + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staged, target)
    return target


def _extract(sdist: Path, into: Path) -> None:
    """Only the converter's files of the sdist's ``vendor/llama.cpp`` into `into`."""
    into.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            rel = parts[1] if len(parts) == 2 else ""
            if not rel.startswith("vendor/llama.cpp/"):
                continue
            inner = rel[len("vendor/llama.cpp/"):]
            if not (member.isfile() and any(inner == k or (k.endswith("/") and inner.startswith(k)) for k in _KEEP)):
                continue
            dest = into / inner
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(dest, "wb") as out:  # type: ignore[union-attr]
                shutil.copyfileobj(src, out)


def converter() -> Path:
    """The converter folder matching the installed llama-cpp-python, or a plain error saying how to get it."""
    version = installed_version()
    if version is None:
        raise _missing('llama-cpp-python is not installed. Run: pip install "peftstudio[llama]"')
    folder = converter_folder(version)
    recorded = folder / _VERSION_FILE
    if not recorded.is_file():
        raise _missing(f"llama.cpp's converter for llama-cpp-python {version} is not installed.")
    if recorded.read_text(encoding="utf-8").strip() != version:
        raise _missing(f"The converter in {folder} is not from llama-cpp-python {version}.")
    return folder


def _env(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(folder / "gguf-py"), str(folder), env.get("PYTHONPATH", "")])
    env["NO_LOCAL_GGUF"] = ""
    return env


_PROGRESS = re.compile(r"(\d+)/(\d+)\s")
_PERCENT = re.compile(r"(\d{1,3})%\|")


# llama.cpp names a BPE tokenizer's pre-tokenizer by hashing its output on a test text, which only
# matches tokenizers it has seen. A tokenizer whose tokenizer.json says plainly it splits like GPT-2 (a
# bare byte-level pre-tokenizer, as small models trained here use) is named so when the hash is unknown.
_RUNNER = """
import runpy, sys
import conversion.base as base
script, fallback = sys.argv[1], sys.argv[2]
sys.argv = [script, *sys.argv[3:]]
known = base.TextModel.get_vocab_base_pre
def named(self, tokenizer):
    try:
        return known(self, tokenizer)
    except NotImplementedError:
        if fallback:
            return fallback
        raise
base.TextModel.get_vocab_base_pre = named
runpy.run_path(script, run_name="__main__")
"""


def declared_pre_tokenizer(model_folder: Path) -> str:
    """llama.cpp's name for the pre-tokenizer that the folder's tokenizer.json declares, when that is
    unambiguous ("gpt-2" for a bare byte-level one); "" otherwise.

    Example:
        >>> declared_pre_tokenizer(Path("/nowhere"))
        ''
    """
    import json

    path = model_folder / "tokenizer.json"
    if not path.is_file():
        return ""
    pre = json.loads(path.read_text(encoding="utf-8")).get("pre_tokenizer") or {}
    bare = pre.get("type") == "ByteLevel" and pre.get("use_regex", True) and not pre.get("add_prefix_space")
    return "gpt-2" if bare else ""


def _run(args: list[str], folder: Path, what: str, progress: ProgressFn | None, fallback: str = "") -> str:
    """Run one of llama.cpp's converter scripts; its log. Progress lines reach `progress`."""
    proc = subprocess.Popen([sys.executable, "-c", _RUNNER, args[0], fallback, *args[1:]], cwd=str(folder), env=_env(folder), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    try:
        return _follow(proc, folder, what, progress)
    finally:
        if proc.poll() is None:  # a cancelled export stops the converter too
            proc.kill()
            proc.wait()


def _follow(proc: subprocess.Popen, folder: Path, what: str, progress: ProgressFn | None) -> str:  # type: ignore[type-arg]
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if progress is not None:
            m = _PROGRESS.search(line)
            percent = _PERCENT.search(line) if "Writing" in line else None
            if percent:  # tqdm's bar of the tensor writing: "Writing:  42%|████ | 120M/290M ..."
                report(progress, "writing", int(percent.group(1)), 100, f"{what}: writing tensors")
            elif m and "Writing" in line:
                report(progress, "converting", int(m.group(1)), int(m.group(2)), f"{what}: writing tensors")
            elif line.startswith("INFO:hf-to-gguf:") or line.startswith("INFO:lora-to-gguf:"):
                report(progress, "converting", 0, 0, line.split(":", 2)[-1].strip()[:120])
    proc.wait()
    log = "".join(lines)
    if proc.returncode != 0:
        raise _failure(log, folder)
    return log


def supported_architectures(folder: Path | None = None) -> list[str]:
    """The Hugging Face architectures llama.cpp's converter knows, read from the converter itself."""
    folder = folder or converter()
    names: set[str] = set()
    for path in [folder / "convert_hf_to_gguf.py", *sorted((folder / "conversion").rglob("*.py"))]:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for block in re.findall(r"@ModelBase\.register\(([^)]*)\)", text):
                names.update(re.findall(r'"([A-Za-z0-9_]+)"', block))
    return sorted(names)


def _unsupported(architecture: str, folder: Path) -> Exception:
    families = sorted({re.sub(r"(ForCausalLM|ForConditionalGeneration|LMHeadModel|Model)$", "", a)
                       for a in supported_architectures(folder)} - {""})
    return make("export_unsupported_architecture", architecture=architecture, supported=", ".join(families))


def check_architecture(model_folder: Path, folder: Path | None = None) -> None:
    """The plain ``export_unsupported_architecture`` error, before any work, when the model folder's
    config.json names no architecture llama.cpp's converter knows.

    Example:
        >>> check_architecture(Path("builtin-llama"))  # doctest: +SKIP
    """
    import json

    path = model_folder / "config.json"
    if not path.is_file():
        return  # the converter names what is missing
    architectures = json.loads(path.read_text(encoding="utf-8")).get("architectures") or []
    folder = folder or converter()
    known = set(supported_architectures(folder))
    if architectures and not any(a in known for a in architectures):
        raise _unsupported(architectures[0], folder)


def _failure(log: str, folder: Path) -> Exception:
    m = re.search(r"Model (\w+) is not supported", log)
    if m:
        return _unsupported(m.group(1), folder)
    tail = "\n".join(log.strip().splitlines()[-6:])
    return make("export_failed", detail=f"llama.cpp's converter stopped: {tail}")


def convert(model_folder: Path, out: Path, outtype: str = "f16", *, progress: ProgressFn | None = None) -> Path:
    """Convert a Hugging Face model folder to the GGUF file `out` (f32, f16, bf16 or q8_0) with llama.cpp's
    converter; `out`.

    Example:
        >>> convert(Path("merged-model"), Path("/tmp/m-F16.gguf"))  # doctest: +SKIP
        PosixPath('/tmp/m-F16.gguf')
    """
    folder = converter()
    check_architecture(model_folder, folder)
    _run([str(folder / "convert_hf_to_gguf.py"), str(model_folder), "--outfile", str(out), "--outtype", outtype],
         folder, "Converting", progress, declared_pre_tokenizer(model_folder))
    report(progress, "writing", 100, 100, f"Wrote {out.name}")  # tqdm's last line can be lost to buffering
    return out


def convert_lora(adapter_folder: Path, base_folder: Path, out: Path, *, progress: ProgressFn | None = None) -> Path:
    """Convert a PEFT LoRA adapter folder to a GGUF adapter file with llama.cpp's ``convert_lora_to_gguf.py``."""
    folder = converter()
    _run([str(folder / "convert_lora_to_gguf.py"), str(adapter_folder), "--base", str(base_folder),
          "--outfile", str(out), "--outtype", "f16"], folder, "Converting the adapter", progress,
         declared_pre_tokenizer(base_folder))
    return out


def quantize(src: Path, dst: Path, quant: str) -> Path:
    """Quantize the GGUF file `src` into `dst` as `quant` with llama.cpp's quantizer (in process); `dst`.

    Example:
        >>> quantize(Path("m-F16.gguf"), Path("m-Q4_K_M.gguf"), "q4_k_m")  # doctest: +SKIP
        PosixPath('m-Q4_K_M.gguf')
    """
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, QUANTS[quant].ftype_name)
    params.nthread = max(1, (os.cpu_count() or 2))
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        raise make("export_failed", detail=f"llama.cpp's quantizer could not write {quant} (code {rc}).")
    return dst
