"""Every chapter notebook is committed clean and every table-of-contents entry exists."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from book_toc import TOC as TOC_YAML
from book_toc import TOC_DOCS, toc_files

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PYTHON3_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


TOC = TOC_DOCS
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


PART_ONE = "Part I: regression losses"
DESIGN_CHAPTERS = [
    "book/01_why_loss_functions",
    "book/02_metric_vs_loss",
    "book/03_l1_loss",
    "book/04_mse_and_rmse",
    "book/05_smooth_l1_and_huber",
    "book/06_choosing_a_regression_loss",
]
REFERENCE_PART = ("Reference", ["book/api", "book/execution_statistics", "book/references"])


def test_toc_opens_with_the_landing_page_and_ends_with_the_reference_part():
    assert TOC_YAML["root"] == "book/intro" and TOC[0] == "book/intro"
    last = TOC_YAML["parts"][-1]
    assert (last["caption"], toc_files(last)) == REFERENCE_PART
    assert TOC[-len(REFERENCE_PART[1]) :] == REFERENCE_PART[1]
    assert len(set(TOC)) == len(TOC), "an entry is listed twice"


def test_toc_keeps_the_design_chapters_in_order_in_part_one():
    first = TOC_YAML["parts"][0]
    assert (first["caption"], toc_files(first)) == (PART_ONE, DESIGN_CHAPTERS)
    assert [entry for entry in TOC if entry in DESIGN_CHAPTERS] == DESIGN_CHAPTERS


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


# ---------------------------------------------------------------------------------------------
# What the reader sees (CONTRIBUTING.md): code width, exercises, figures, no stray toggles.

ALLOWED_TAGS = {"remove-cell", "remove-input", "remove-output", "skip-execution"}
EXERCISE = re.compile(r"^```\{admonition\} Exercise (\d+)\.(\d+): (\S.*)\n:class: tip$", re.M)
EXERCISE_MENTION = re.compile(r"\{admonition\}\s*Exercise")
SOLUTION = re.compile(r"^(`{4,})\{dropdown\} Solution\n(.*?)^\1$", re.M | re.S)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def chapter_number(path: Path) -> int:
    return int(path.name[:2])


def source(cell: dict) -> str:
    return "".join(cell["source"])


def test_ruff_formats_and_checks_notebook_code_within_79_columns():
    ruff = [sys.executable, "-m", "ruff"]
    fmt = subprocess.run([*ruff, "format", "--check", "book"], cwd=ROOT, capture_output=True)
    check = subprocess.run([*ruff, "check", "book"], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout.decode() + fmt.stderr.decode()
    assert check.returncode == 0, check.stdout[-3000:]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_tags_that_add_no_second_toggle_style(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    tags = {tag for cell in nb["cells"] for tag in cell.get("metadata", {}).get("tags", [])}
    assert tags <= ALLOWED_TAGS, f"use remove-cell/remove-input instead of {tags - ALLOWED_TAGS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_are_numbered_titled_and_solved_in_one_style(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    numbers = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        text = source(cell)
        found = EXERCISE.findall(text)
        assert len(found) == len(EXERCISE_MENTION.findall(text)), (
            f"cell {index}: write 'Exercise N.k: title' followed by ':class: tip'"
        )
        numbers += [(int(n), int(k)) for n, k, _ in found]
        solutions = SOLUTION.findall(text)
        assert len(solutions) == len(found), f"cell {index}: one Solution dropdown per exercise"
        shown = "".join(code for _, body in solutions for code in PYTHON_BLOCK.findall(body))
        if shown:
            checker = cells[index + 1] if index + 1 < len(cells) else {"cell_type": None}
            assert checker["cell_type"] == "code", f"cell {index}: solution code is never run"
            assert "remove-cell" in checker["metadata"].get("tags", []), f"cell {index + 1}"
            assert source(checker).startswith(shown.rstrip("\n")), (
                f"cell {index + 1} must start with the code the solution shows"
            )
    chapter = chapter_number(path)
    assert numbers == [(chapter, k) for k in range(1, len(numbers) + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_a_caption_a_name_and_alt_text(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    names = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code" or "new_figure(" not in source(cell):
            continue
        mystnb = cell["metadata"].get("mystnb", {})
        figure, image = mystnb.get("figure", {}), mystnb.get("image", {})
        assert figure.get("caption", "").strip(), f"cell {index}: no figure caption"
        assert figure.get("name", "").startswith("fig-"), f"cell {index}: name it fig-..."
        alt = image.get("alt", "")
        assert len(alt) >= 40 and alt != figure["caption"], (
            f"cell {index}: alt text should describe what the figure shows"
        )
        names.append(figure["name"])
    assert len(names) == len(set(names)), "figure names must be unique"
