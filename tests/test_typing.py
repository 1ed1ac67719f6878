"""The companion passes `mypy --strict`, and a type checker sees the losses' real signatures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def mypy(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run mypy from the repository root (its settings are in pyproject.toml)."""
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    command = [sys.executable, "-m", "mypy", "--no-error-summary", *arguments]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)


def test_mypy_strict_passes_on_the_companion():
    result = mypy("--strict", "companion")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_reports_a_misspelt_keyword(tmp_path):
    call = "import numpy as np\nfrom companion import smooth_l1_loss\nx = np.zeros(3)\n"
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(call + "smooth_l1_loss(x, x, beta=2.0)\n")
    bad.write_text(call + "smooth_l1_loss(x, x, betta=2.0)\n")
    # the correct call type-checks, so the error below is about the keyword, not the module
    assert mypy("--strict", str(good)).returncode == 0
    result = mypy("--strict", str(bad))
    assert result.returncode == 1
    # (mypy's cache may name the file by the path of an earlier run: compare from its name)
    errors = [line.rsplit("/", 1)[-1] for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == [
        'bad.py:4: error: Unexpected keyword argument "betta" for "smooth_l1_loss"; '
        'did you mean "beta"?  [call-arg]'
    ]
