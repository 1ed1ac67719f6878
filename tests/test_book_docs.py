"""The README's quick start, CI and the code shown to readers stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from book_toc import TOC_DOCS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
INTRO = (ROOT / "book" / "intro.md").read_text()
API = (ROOT / "book" / "api.md").read_text()


def fenced_blocks(markdown: str, language: str | None = None) -> list[str]:
    """The bodies of the markdown's fenced code blocks (of one language, if given)."""
    # the info string may be a MyST directive such as {eval-rst}
    blocks = re.findall(r"^```([^\n`]*)\n(.*?)^```", markdown, flags=re.M | re.S)
    return [body for lang, body in blocks if language is None or lang == language]


def quick_start_commands() -> list[str]:
    section = README.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = fenced_blocks(section)
    assert len(blocks) == 1, "the quick start must hold exactly one code block"
    return [line for line in blocks[0].splitlines() if line.strip()]


def test_quick_start_is_install_and_build_then_test():
    install_and_build, run_tests = quick_start_commands()
    assert install_and_build.startswith("pip install -r requirements.txt")
    assert "jupyter-book build ." in install_and_build
    assert run_tests == "python -m pytest"


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line.strip() for line in ci if line.strip() and not line.lstrip().startswith("#")]
    assert commands[0] == "set -euo pipefail"
    assert commands[-1] == quick_start_commands()[1]


def test_requirements_pin_every_package_and_install_the_companion():
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "-e ." in lines
    assert "torch==2.13.0" in lines
    unpinned = [
        line for line in lines if line != "-e ." and not re.fullmatch(r"[\w.-]+==[\w.]+", line)
    ]
    assert unpinned == []


def test_intro_links_every_chapter_in_toc_order():
    chapters = [Path(f).name for f in TOC_DOCS if Path(f).name[:2].isdigit()]
    linked = re.findall(r"\]\((\d\d_\w+)\.ipynb\)", INTRO)
    assert linked == chapters


@pytest.mark.parametrize(
    "source, code",
    [("README.md", code) for code in fenced_blocks(README, "python")]
    + [("book/intro.md", code) for code in fenced_blocks(INTRO, "python")]
    + [("book/api.md", code) for code in fenced_blocks(API, "python")],
)
def test_python_examples_run(source, code):
    exec(compile(code, source, "exec"), {})
