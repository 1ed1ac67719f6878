"""The book's table of contents (``_toc.yml``), read the way jupyter-book reads it."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files(entry: dict | list) -> list[str]:
    """All pages of a ``_toc.yml`` entry (the root, parts, chapters, sections), in reading order.

    >>> part = {"chapters": [{"file": "b", "sections": [{"file": "c"}]}]}
    >>> toc_files({"root": "a", "parts": [part]})
    ['a', 'b', 'c']
    """
    if isinstance(entry, list):
        return [f for item in entry for f in toc_files(item)]
    files = [entry["root"]] if "root" in entry else []
    if "file" in entry:
        files.append(entry["file"])
    for key in ("parts", "chapters", "sections"):
        files += toc_files(entry.get(key, []))
    return files


TOC_DOCS = toc_files(TOC)
