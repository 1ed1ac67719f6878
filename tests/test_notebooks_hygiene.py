"""Every chapter notebook is committed clean and every table-of-contents entry exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PYTHON3_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def toc_files(entry: dict | list) -> list[str]:
    """All ``file:`` entries of a jupyter-book ``_toc.yml``, in reading order."""
    if isinstance(entry, list):
        return [f for item in entry for f in toc_files(item)]
    files = [entry["root"]] if "root" in entry else []
    if "file" in entry:
        files.append(entry["file"])
    for key in ("parts", "chapters", "sections"):
        files += toc_files(entry.get(key, []))
    return files


TOC = toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))
NOTEBOOKS = sorted(
    p
    for p in BOOK.rglob("*.ipynb")
    if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts
)


def resolve_toc_entry(entry: str) -> list[Path]:
    """The files a toc entry may refer to (jupyter-book allows the suffix to be left out)."""
    path = ROOT / entry
    candidates = [path] if path.suffix else [path.with_suffix(s) for s in (".md", ".ipynb")]
    return [c for c in candidates if c.is_file()]


def test_toc_opens_with_the_landing_page_and_ends_with_api_and_references():
    assert TOC[0] == "book/intro"
    assert TOC[-2:] == ["book/api", "book/references"]
    assert len(set(TOC)) == len(TOC), "an entry is listed twice"


def test_toc_keeps_the_design_chapters_in_order():
    design_chapters = [
        "book/01_why_loss_functions",
        "book/02_metric_vs_loss",
        "book/03_l1_loss",
        "book/04_mse_and_rmse",
        "book/05_smooth_l1_and_huber",
        "book/06_choosing_a_regression_loss",
    ]
    assert [entry for entry in TOC if entry in design_chapters] == design_chapters


@pytest.mark.parametrize("entry", TOC)
def test_toc_entry_exists(entry):
    found = resolve_toc_entry(entry)
    assert len(found) == 1, f"_toc.yml entry {entry!r} should match exactly one file, got {found}"


def test_book_has_notebooks():
    assert NOTEBOOKS, f"no notebooks found under {BOOK}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_listed_in_toc(path):
    entry = path.relative_to(ROOT).with_suffix("").as_posix()
    assert entry in TOC, f"{path.name} is not listed in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"].get("kernelspec") == PYTHON3_KERNELSPEC, "kernelspec must be python3"
    assert "widgets" not in nb["metadata"], "saved widget state is an output: clear it"
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"cell {index} has outputs"
        assert cell.get("execution_count") is None, f"cell {index} has an execution count"
