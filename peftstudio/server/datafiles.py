"""Where the studio's data files come from: uploads (streamed to disk under a size limit), the bundled
samples, and files inside the folders named at start. A reference is text the page holds:
``upload:<id>/<name>``, ``sample:<name>`` or an absolute path under a data folder. Nothing else is read.

Example:
    >>> safe_name("../../etc/passwd"), safe_name("données 数据.jsonl")
    ('passwd', 'données 数据.jsonl')
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from peftstudio.errors import make
from peftstudio.server.settings import ServerSettings
from peftstudio.units import human_bytes

_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def safe_name(name: str) -> str:
    """A file name safe to write: its last part only, no control or separator characters, not hidden."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", base).strip().lstrip(".")
    return base[:120] or "data.jsonl"


def resolve(ref: str, settings: ServerSettings) -> Path:
    """The file a data reference names; a plain error for anything outside the allowed places."""
    if not isinstance(ref, str) or not ref.strip():
        raise make("config_invalid", problems="`data`: expected an uploaded file, a sample or a path")
    ref = ref.strip()
    if ref.startswith("sample:"):
        from peftstudio.data import sample_path

        return sample_path(ref.removeprefix("sample:"))
    if ref.startswith("upload:"):
        upload_id, _, name = ref.removeprefix("upload:").partition("/")
        if not _UPLOAD_ID.match(upload_id) or name != safe_name(name):
            raise make("path_not_allowed", path=ref, folders="the uploads")
        path = Path(settings.upload_dir) / upload_id / name
        if not path.is_file():
            raise make("file_not_found", path=f"the upload {name}")
        return path
    return inside_data_dirs(ref, settings)


def inside_data_dirs(text: str, settings: ServerSettings) -> Path:
    """`text` as a path inside one of the data folders (links resolved first); refused otherwise."""
    folders = ", ".join(settings.data_dirs) or "none were named"
    if "\x00" in text:
        raise make("path_not_allowed", path=repr(text), folders=folders)
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise make("path_not_allowed", path=text, folders=folders)
    real = path.resolve()
    for root in settings.data_dirs:
        if real.is_relative_to(Path(root).resolve()):
            if not real.is_file():
                raise make("file_not_found", path=text)
            return real
    raise make("path_not_allowed", path=text, folders=folders)


def list_data_dir_files(settings: ServerSettings, limit: int = 500) -> list[dict[str, object]]:
    """Data files in the configured folders (not hidden, not in hidden folders), for a picker."""
    out: list[dict[str, object]] = []
    suffixes = {".jsonl", ".json", ".csv", ".tsv", ".txt", ".parquet"}
    for root in settings.data_dirs:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for f in sorted(filenames):
                p = Path(dirpath) / f
                if f.startswith(".") or p.suffix.lower() not in suffixes:
                    continue
                out.append({"ref": str(p), "name": str(p.relative_to(root)), "folder": root,
                            "size_bytes": p.stat().st_size})
                if len(out) >= limit:
                    return out
    return out


async def save_upload(chunks: AsyncIterator[bytes], name: str, settings: ServerSettings,
                      declared_size: int | None = None) -> dict[str, object]:
    """Stream an upload to disk; over the limit, a plain error and nothing left behind."""
    limit = settings.max_upload_bytes
    too_large = make("upload_too_large", limit=human_bytes(limit))
    if declared_size is not None and declared_size > limit:
        raise too_large
    clean = safe_name(name)
    upload_id = secrets.token_urlsafe(12)
    folder = Path(settings.upload_dir) / upload_id
    folder.mkdir(parents=True, exist_ok=False)
    part = folder / f".{clean}.part"
    size = 0
    try:
        with open(part, "wb") as fh:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large
                fh.write(chunk)
        if size == 0:
            raise make("config_invalid", problems="the uploaded file is empty")
        os.replace(part, folder / clean)
    except BaseException:
        part.unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:
            pass
        raise
    return {"ref": f"upload:{upload_id}/{clean}", "name": clean, "size_bytes": size}
