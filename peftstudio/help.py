"""The user guide, offline: the pages of ``docs/`` travel inside the package and open without a network.

An installed package carries the pages in ``peftstudio/help/`` (the build copies them there); a source
checkout reads ``docs/`` beside the package. A topic is a page's name (``export``), optionally with a
section (``errors#disk-full``); an error code (``disk_full``) finds its section of the errors page.

Example:
    >>> "errors" in topics() and "export" in topics()
    True
    >>> page_path("disk_full").name, page_anchor("disk_full")
    ('errors.md', 'disk-full')
    >>> read_page("errors").startswith("#")
    True
"""

from __future__ import annotations

import re
from pathlib import Path

from peftstudio.errors import make

_PACKAGED = Path(__file__).resolve().parent / "help"
_CHECKOUT = Path(__file__).resolve().parent.parent / "docs"


def pages_dir() -> Path:
    """The folder of help pages: the package's own copy, else the source checkout's ``docs/``."""
    if any(_PACKAGED.glob("*.md")):
        return _PACKAGED
    return _CHECKOUT


def topics() -> list[str]:
    """Every page's topic name, sorted (``index`` is the table of contents)."""
    return sorted(p.stem for p in pages_dir().glob("*.md"))


def _error_codes() -> set[str]:
    from peftstudio.errors.catalog import CATALOG

    return set(CATALOG)


def _split(topic: str) -> tuple[str, str]:
    """(page, anchor) of a topic: ``errors#disk-full``, ``disk_full`` or ``export``."""
    page, _, anchor = topic.strip().partition("#")
    page = page.removesuffix(".md").lower()
    if page not in topics() and page in _error_codes():
        return "errors", page.replace("_", "-")
    return page, anchor


def page_path(topic: str) -> Path:
    """The file of a topic's page; a plain error listing the topics when there is none.

    Example:
        >>> page_path("export").name
        'export.md'
    """
    page, _ = _split(topic)
    path = pages_dir() / f"{page}.md"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", page) or not path.is_file():
        raise make("item_not_found", kind="help topic", name=repr(topic), command="help")
    return path


def page_anchor(topic: str) -> str:
    """The section a topic points at (``""`` for a whole page)."""
    return _split(topic)[1]


def page_uri(topic: str) -> str:
    """A ``file://`` address of a topic's page and section, for a browser.

    Example:
        >>> page_uri("errors#disk-full").endswith("errors.md#disk-full")
        True
    """
    anchor = page_anchor(topic)
    uri = page_path(topic).as_uri()
    return f"{uri}#{anchor}" if anchor else uri


def read_page(topic: str) -> str:
    """A topic's text (Markdown): the whole page, or only its section when the topic names one."""
    text = page_path(topic).read_text(encoding="utf-8")
    anchor = page_anchor(topic)
    return _section(text, anchor) if anchor else text


def _slug(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading (lower case, words joined by dashes)."""
    text = re.sub(r"[`*_]", " ", heading.strip().lower())
    return re.sub(r"[^\w]+", "-", text).strip("-")


def _section(text: str, anchor: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"(#+)\s+(.*)", line)
        if match and _slug(match.group(2)).replace("_", "-") == anchor.replace("_", "-"):
            level = len(match.group(1))
            end = next((j for j in range(i + 1, len(lines))
                        if (m := re.match(r"(#+)\s", lines[j])) and len(m.group(1)) <= level), len(lines))
            return "\n".join(lines[i:end]).strip() + "\n"
    return text


__all__ = ["page_anchor", "page_path", "page_uri", "pages_dir", "read_page", "topics"]
