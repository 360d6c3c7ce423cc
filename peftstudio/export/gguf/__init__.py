"""GGUF writing in pure Python: tensor names (names.py), tokenizer metadata (tokenizer.py), the writer."""

from peftstudio.export.gguf.exporter import export_gguf, gguf_file_name
from peftstudio.export.gguf.writer import write_gguf

__all__ = ["export_gguf", "gguf_file_name", "write_gguf"]
