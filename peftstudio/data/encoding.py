"""Which text encoding a file uses, decided from its first bytes.

Order of evidence: a byte-order mark (UTF-32, UTF-16, UTF-8), then the pattern
of zero bytes that UTF-16 text without a mark shows, then whether the head
decodes as UTF-8. Text that is none of these is read as Windows-1252 (or
Latin-1 where cp1252 leaves bytes undefined), with a warning; content with many
zero or control bytes is called binary.

Example:
    >>> detect_encoding(b"\\xef\\xbb\\xbfhello").name
    'utf-8-sig'
    >>> detect_encoding("café au lait".encode("latin-1")).legacy
    True
"""

from __future__ import annotations

import codecs
import re

from attrs import frozen

#: How many bytes of the head are inspected.
HEAD_BYTES = 1 << 16

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian mark starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Bytes that never appear in text files (NUL and most C0 controls, not tab/newline/CR/form feed/ESC).
_BINARY_BYTES = frozenset(range(8)) | frozenset(range(14, 27)) | frozenset(range(28, 32))


_UTF8_MULTIBYTE = re.compile(rb"[\xc3-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


@frozen
class Encoding:
    """How to decode a file.

    `name` is a Python codec name; `bom` the number of byte-order-mark bytes to skip;
    `legacy` is true for the Latin-1/cp1252 fallback; `binary` when the head looks like binary data.
    """

    name: str
    bom: int = 0
    legacy: bool = False
    binary: bool = False

    @property
    def label(self) -> str:
        """The encoding as a person would name it (``UTF-8``, ``UTF-16 LE with BOM``, ...)."""
        labels = {
            "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
            "utf-32-le": "UTF-32 LE", "utf-32-be": "UTF-32 BE", "cp1252": "Windows-1252", "latin-1": "Latin-1",
        }
        text = labels.get(self.name, self.name)
        if self.bom and self.name != "utf-8-sig":
            text += " with BOM"
        return text

    @property
    def codec(self) -> str:
        """The codec to decode the bytes after the byte-order mark with."""
        return "utf-8" if self.name == "utf-8-sig" else self.name

    @property
    def is_utf8(self) -> bool:
        return self.name in ("utf-8", "utf-8-sig")


def looks_binary(head: bytes) -> bool:
    """True when `head` has NUL bytes or many control bytes: not a text file in an 8-bit encoding."""
    if not head:
        return False
    if b"\x00" in head:
        return True
    sample = head[:4096]
    odd = sum(1 for b in sample if b in _BINARY_BYTES)
    return odd > max(2, len(sample) // 100)


def _utf16_without_bom(head: bytes) -> str | None:
    # ASCII-heavy UTF-16 text has a zero in every other byte.
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even_zero = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_zero = sample[1::2].count(0) / max(1, len(sample[1::2]))
    if odd_zero > 0.4 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.4 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _decodes_as_utf8(head: bytes, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # A head cut from a longer file may end inside a character; `final` only when it is the whole file.
        decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(head: bytes, *, complete: bool = False) -> Encoding:
    """The encoding of a file whose first bytes are `head` (`complete`: `head` is the whole file).

    Example:
        >>> detect_encoding("hi".encode("utf-16")).name in ("utf-16-le", "utf-16-be")
        True
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return Encoding(name, bom=len(bom))
    guessed = _utf16_without_bom(head)
    if guessed is not None:
        sample = head[:4096].decode(guessed, errors="replace")
        odd = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\x0c")
        return Encoding(guessed, binary=odd > max(2, len(sample) // 100))
    if looks_binary(head):
        return Encoding("utf-8", binary=True)
    if _decodes_as_utf8(head, complete) or _UTF8_MULTIBYTE.search(head):
        # Valid multi-byte UTF-8 next to a few bad bytes is a UTF-8 file with damaged lines (each a finding);
        # a legacy 8-bit file practically never forms valid UTF-8 sequences.
        return Encoding("utf-8")
    # cp1252 leaves five bytes undefined; Latin-1 decodes everything.
    try:
        head.decode("cp1252")
        return Encoding("cp1252", legacy=True)
    except UnicodeDecodeError:
        return Encoding("latin-1", legacy=True)
