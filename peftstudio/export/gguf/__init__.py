"""GGUF export through llama.cpp's own converter and quantizer."""

from peftstudio.export.gguf.exporter import export_gguf, gguf_file_name, write_gguf

__all__ = ["export_gguf", "gguf_file_name", "write_gguf"]
