"""Measure the book's budgets: each chapter's execution, the nbval run and a clean build.

Run ``python benchmarks/bench_book.py`` from the repository root (about five minutes on two
cores). It prints one markdown table with the wall time and peak memory of

- each chapter notebook executed on its own (``jupyter execute``, kernel start included),
  target under 10 s and under 1 GiB;
- the nbval run of every notebook (``pytest book/``), target under 90 s;
- a clean ``jupyter-book build -W -n --keep-going`` of a fresh copy of the tracked files (no
  execution cache), target under 180 s.

This is a measurement, not a test: nothing fails on a slow machine. Peak memory is the largest
resident set of the measured process tree (``wait4``'s ``ru_maxrss``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from book_toc import TOC_DOCS, clean_copy  # noqa: E402  (the tests' reader of _toc.yml)

SCRIPTS = Path(sysconfig.get_path("scripts"))


def measure(command: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Run ``command``; return its wall time (s) and peak resident memory (MiB). Fail loudly."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read()}")
    return seconds, usage.ru_maxrss / 1024


def chapters() -> list[Path]:
    """The notebooks listed in _toc.yml, in book order."""
    paths = [ROOT / (doc + ".ipynb") for doc in TOC_DOCS]
    return [path for path in paths if path.is_file()]


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for notebook in chapters():
            executed = Path(scratch) / notebook.name
            command = [str(SCRIPTS / "jupyter-execute"), f"--output={executed}", str(notebook)]
            rows.append((f"execute {notebook.name}", *measure(command), "< 10 s, < 1024 MiB"))
        nbval = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "book"]
        rows.append(("nbval run of every notebook", *measure(nbval), "< 90 s"))
        copy = clean_copy(Path(scratch) / "book-copy")
        build = [str(SCRIPTS / "jupyter-book"), "build", str(copy), "-W", "-n", "--keep-going"]
        rows.append(("clean book build (-W -n --keep-going)", *measure(build), "< 180 s"))

    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    print("| what | wall (s) | peak memory (MiB) | target |")
    print("|---|---:|---:|---|")
    for what, seconds, mebibytes, target in rows:
        print(f"| {what} | {seconds:.1f} | {mebibytes:.0f} | {target} |")


if __name__ == "__main__":
    main()
