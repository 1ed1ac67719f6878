"""Binder's environment (binder/) holds what the chapters need to run, and nothing else.

repo2docker cannot run here, so these tests check statically what decides whether a Binder
session works and starts quickly: the versions match the ones the book is tested with, every
import of the chapters and of the companion is installed, no build or test tool is, the torch
is PyTorch's CPU build, and the requirements refer to no file of the repository (which would
make repo2docker reinstall everything on every commit).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# Installed in Binder although no chapter imports them yet, and why.
ANTICIPATED = {
    "pandas": "result tables are pandas DataFrames (CONTRIBUTING.md)",
    "scikit-learn": "the classification chapters score models with its metrics",
}
# What the Jupyter kernel that Binder starts already has (repo2docker's base environment runs
# JupyterLab with an IPython kernel); companion.plotting uses matplotlib-inline only there.
KERNEL_PROVIDED = {"ipython", "ipykernel", "matplotlib-inline"}
# Distributions that build, test, lint or document the book: none belongs in Binder.
TOOLS = re.compile(
    r"(jupyter-book|sphinx.*|.*sphinx-theme|myst-.*|pytest.*|nbval|playwright|hypothesis"
    r"|ruff|mypy|zizmor|check-jsonschema|build|nbconvert|array-api-strict|pyyaml)"
)


def requirement_lines(path: Path) -> list[str]:
    """The lines pip reads from a requirements file, without comments and blank lines."""
    lines = []
    for raw in path.read_text().splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def pins(path: Path) -> dict[str, Version]:
    """``{canonical name: pinned version}`` for every requirement (not option) in ``path``."""
    found = {}
    for line in requirement_lines(path):
        if line.startswith("-"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {line!r} is not pinned with =="
        found[canonicalize_name(requirement.name)] = Version(specifier.version)
    return found


def top_level_imports(source: str) -> set[str]:
    """The top-level modules that ``source`` imports (absolute imports only)."""
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def notebook_sources() -> dict[str, str]:
    """Every code cell of every chapter, as Python (IPython magics turned into calls)."""
    transform = TransformerManager().transform_cell
    sources = {}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                sources[f"{path.name} cell {i}"] = transform("".join(cell["source"]))
    return sources


def companion_sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "companion").rglob("*.py")}


def imported_distributions() -> dict[str, set[str]]:
    """``{distribution: where it is imported}`` for the chapters' and the companion's imports.

    The standard library and the companion itself (installed by postBuild) are left out.
    """
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    unknown = []
    for where, source in {**notebook_sources(), **companion_sources()}.items():
        for module in top_level_imports(source):
            if module in sys.stdlib_module_names or module == "companion":
                continue
            if module not in owners:
                unknown.append(f"{module} ({where})")
                continue
            for distribution in owners[module]:
                found.setdefault(canonicalize_name(distribution), set()).add(where)
    assert unknown == [], f"imports that no installed distribution provides: {unknown}"
    return found


def test_binder_pins_equal_the_root_pins():
    binder, root = pins(BINDER / "requirements.txt"), pins(ROOT / "requirements.txt")
    assert binder, "binder/requirements.txt pins nothing"
    for name, version in binder.items():
        assert name in root, f"{name} is in binder/requirements.txt but not in requirements.txt"
        assert version.public == str(root[name]), f"{name}: binder {version}, root {root[name]}"


def test_binder_torch_is_the_cpu_build_from_pytorchs_index():
    options = [line.split() for line in requirement_lines(BINDER / "requirements.txt")]
    assert ["--extra-index-url", CPU_INDEX] in options
    torch = pins(BINDER / "requirements.txt")["torch"]
    assert torch.local == "cpu", f"torch=={torch} would take PyPI's CUDA build on Linux"
    others = {n: v for n, v in pins(BINDER / "requirements.txt").items() if n != "torch"}
    assert all(v.local is None for v in others.values()), others


def test_binder_requirements_refer_to_no_repository_file():
    # repo2docker installs requirements before copying the repository in (a layer that is kept
    # across commits) only if no line refers to a local file: its is_local_pip_requirement
    # treats -r/-c, file:// and paths starting with "." as local, -e/--editable values too.
    local = [
        line
        for line in requirement_lines(BINDER / "requirements.txt")
        if line.startswith(("-r", "-c", "--requirement", "--constraint", "-e", "--editable"))
        or "file://" in line
        or any(token.startswith(".") for token in line.replace("=", " ").split())
    ]
    assert local == []


def test_binder_holds_no_build_test_or_docs_tool():
    tools = [name for name in pins(BINDER / "requirements.txt") if TOOLS.fullmatch(name)]
    assert tools == []


def test_binder_installs_everything_the_chapters_and_the_companion_import():
    installed = set(pins(BINDER / "requirements.txt")) | KERNEL_PROVIDED
    missing = {
        name: sorted(where)[:3]
        for name, where in imported_distributions().items()
        if name not in installed
    }
    assert missing == {}, f"imported but not in binder/requirements.txt: {missing}"


def test_binder_installs_nothing_that_is_not_needed():
    imported = set(imported_distributions())
    unused = set(pins(BINDER / "requirements.txt")) - imported - set(ANTICIPATED)
    assert unused == set(), f"in binder/requirements.txt but imported nowhere: {unused}"


def test_postbuild_installs_the_companion_without_its_dependencies():
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "repo2docker runs binder/postBuild as a program"
    subprocess.run(["bash", "-n", str(post_build)], check=True)
    text = post_build.read_text()
    assert text.startswith("#!/bin/bash\n") and "set -euo pipefail" in text
    commands = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and "set -" not in line
    ]
    assert commands == ["python -m pip install --no-deps --no-cache-dir ."]
