"""The book's table of contents (``_toc.yml``), read the way jupyter-book reads it, and its files.

Shared by the tests and ``benchmarks/bench_book.py``.
"""

from __future__ import annotations

import shutil
import subprocess
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


def clean_copy(destination: Path) -> Path:
    """Copy what a fresh clone would have (tracked files, and new ones git does not ignore).

    No build outputs, caches or virtual environments: a build in the copy starts from scratch.
    """
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split("\0")
    for name in names:
        if name and (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    return destination
