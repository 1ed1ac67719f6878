"""The companion as a distribution: what `python -m build` makes, and the wheel on its own.

The distributions are built once per session (the sdist, then the wheel from the sdist, as
`python -m build` does); the wheel is installed with its dependencies, and nothing else, into a
fresh virtual environment, where the README examples must print what the READMEs say, and the
modules that need an extra must say which one.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
NAME = "loss-functions-companion"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = re.search(
    r'^__version__ = "(.+)"$', (ROOT / "companion" / "__init__.py").read_text(), flags=re.M
).group(1)
# What each module or function that needs an extra must name when the extra is not installed
# (test_every_optional_import_names_its_extra finds them all in the source).
EXTRA_ERRORS = {
    "import companion.training": "torch",
    "import companion.networks": "torch",
    "import companion.classification_grid": "torch",
    "import companion.imbalance": "torch",
    "from companion.binary import train_linear_classifier as f; "
    "f([0.0], [0], None, weights=[0.0], biases=0.0, lr=1.0, steps=1)": "torch",
    "import companion.plotting": "plot",
    "from companion.experiments import plot_grid; plot_grid(None, [])": "plot",
    "from companion.experiments import plot_outlier_sweep as f; f(None, [], None)": "plot",
    "from companion.experiments import robust_fit_widget; robust_fit_widget()": "widgets",
}
# scikit-learn and SciPy are no dependency of the companion: importing them is an error.
NOT_DEPENDENCIES = ("sklearn", "scipy")
DEPENDENCIES = {"numpy", "array_api_compat", "companion", "__future__"}
# Each extra, and the top-level modules it installs (its requirements' names as modules).
EXTRA_MODULES = {
    extra: {Requirement(r).name.replace("-", "_") for r in requirements}
    for extra, requirements in PYPROJECT["project"]["optional-dependencies"].items()
}
# Imports of an optional dependency that need no extra-naming error: the losses import PyTorch
# only to handle a tensor they were given, and the book style loads matplotlib-inline only
# inside a running IPython kernel, which ships it.
LAZY_IMPORTS = {
    ("companion/losses/_common.py", "torch"),
    ("companion/losses/_validation.py", "torch"),
    ("companion/plotting.py", "matplotlib_inline"),
}


def pinned(name: str) -> Version:
    """The version of ``name`` that requirements.txt pins (the one the tests run against)."""
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{name}=="):
            return Version(line.split("==")[1])
    raise AssertionError(f"{name} is not pinned in requirements.txt")


def readme_examples(path: Path) -> list[tuple[str, str]]:
    """Each ``python`` block of ``path`` that is followed by "prints" and a ``text`` block."""
    pattern = r"```python\n(.*?)```\s+prints\s+```text\n(.*?)```"
    return re.findall(pattern, path.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


@pytest.fixture(scope="module")
def wheel_python(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a fresh virtual environment with only the wheel (and its dependencies)."""
    env = tmp_path_factory.mktemp("venv")
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*install, str(dist["wheel"])], check=True, capture_output=True)
    return python


def run_isolated(python: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``python`` outside the checkout, so that only the installed package
    can be imported (no PYTHONPATH, and not the repository as the current directory)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    command = [str(python), "-c", code]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env)


def test_the_sdist_holds_the_package_its_license_and_readme_and_nothing_else(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "pyproject.toml", "PKG-INFO", "companion/README.md"} <= names
    assert "companion/py.typed" in names
    assert {n.split("/")[0] for n in names} <= {
        "LICENSE",
        "pyproject.toml",
        "PKG-INFO",
        "companion",
        ".gitignore",
    }


def test_the_wheel_holds_the_package_typed_and_licensed(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
        license_text = next(
            wheel.read(n) for n in names if n.endswith(".dist-info/licenses/LICENSE")
        )
    assert license_text == (ROOT / "LICENSE").read_bytes()
    assert "companion/py.typed" in names and "companion/losses/regression.py" in names
    assert "companion/README.md" not in names
    assert {n.split("/")[0] for n in names} == {
        "companion",
        f"loss_functions_companion-{dist['wheel'].name.split('-')[1]}.dist-info",
    }


def test_the_metadata_is_complete_and_valid(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Metadata.from_email(wheel.read(name), validate=True)
    with tarfile.open(dist["sdist"]) as sdist:
        (pkg_info,) = [m for m in sdist.getmembers() if m.name.endswith("/PKG-INFO")]
        sdist_metadata = Metadata.from_email(sdist.extractfile(pkg_info).read(), validate=True)
    assert sdist_metadata.version == metadata.version
    # PyPI and twine releases before core metadata 2.5 refuse anything newer than 2.4.
    assert metadata.metadata_version == "2.4"
    assert metadata.name == NAME
    assert str(metadata.version) == VERSION
    assert str(metadata.license_expression) == "MIT"
    assert [str(f) for f in metadata.license_files] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in metadata.classifiers)
    assert "Typing :: Typed" in metadata.classifiers
    assert metadata.author == "The loss-functions book team"
    assert set(metadata.project_urls) == {"Documentation", "Source", "Issues"}
    assert metadata.description_content_type == "text/markdown"
    # the long description is the package's own README, not the book's
    assert metadata.description.strip() == (ROOT / "companion" / "README.md").read_text().strip()
    assert {str(r) for r in metadata.requires_dist if r.marker is None} == {
        "array-api-compat>=1.9",
        "numpy>=1.26",
    }
    assert set(metadata.provides_extra) == {"torch", "plot", "widgets"}


def test_the_torch_extra_is_a_range_that_holds_the_tested_version(dist):
    (torch,) = [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["torch"]]
    operators = {spec.operator for spec in torch.specifier}
    assert "==" not in operators and ">=" in operators and "<" in operators
    assert pinned("torch") in torch.specifier
    assert Version("2.99") in torch.specifier  # newer minor versions install too


def test_the_wheel_alone_runs_the_readme_examples(wheel_python, tmp_path):
    examples = readme_examples(ROOT / "README.md") + readme_examples(
        ROOT / "companion" / "README.md"
    )
    assert len(examples) == 2
    for code, expected in examples:
        result = run_isolated(wheel_python, code, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected


def test_the_wheel_imports_the_installed_package(wheel_python, tmp_path):
    code = "import companion, sys; print(companion.__version__); print(companion.__file__)"
    result = run_isolated(wheel_python, code, tmp_path)
    version, location = result.stdout.split()
    assert version == VERSION
    assert Path(location).is_relative_to(wheel_python.parents[1]), location


@pytest.mark.parametrize("statement, extra", EXTRA_ERRORS.items())
def test_the_wheel_alone_names_the_extra_a_module_needs(wheel_python, tmp_path, statement, extra):
    result = run_isolated(wheel_python, statement, tmp_path)
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: ")
    assert last_line.endswith(f'pip install "{NAME}[{extra}]"'), last_line
    if statement == "import companion.training":  # the message both READMEs show
        assert last_line in (ROOT / "README.md").read_text()
        assert last_line in (ROOT / "companion" / "README.md").read_text()


@pytest.mark.parametrize("statement, extra", EXTRA_ERRORS.items())
def test_a_missing_dependency_names_the_extra(statement, extra):
    # here every extra is installed: a fresh interpreter hides the dependency it needs
    hidden = {"torch": ["torch"], "plot": ["matplotlib"], "widgets": ["ipywidgets"]}[extra]
    code = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in hidden) + statement
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    last_line = result.stderr.strip().splitlines()[-1]
    expected = f'needs {hidden[0]}, which is not installed: pip install "{NAME}[{extra}]"'
    assert last_line.startswith("ImportError: ") and last_line.endswith(expected), last_line


def optional_imports() -> list[tuple[str, str, str, str | None]]:
    """``(file, where, module, extra)`` for every import of a module that is not a dependency
    (not NumPy, array-api-compat or the standard library) anywhere in the companion: ``where``
    is ``'<module>'`` or the enclosing function, ``extra`` the one its ``missing_extra`` error
    names (None if the import is not inside ``try: ... except ModuleNotFoundError`` that raises
    ``missing_extra``)."""
    found: list[tuple[str, str, str, str | None]] = []
    for path in sorted((ROOT / "companion").rglob("*.py")):
        file = str(path.relative_to(ROOT))
        _collect_imports(ast.parse(path.read_text()), file, "<module>", None, found)
    return found


def _collect_imports(node: ast.AST, file: str, where: str, extra: str | None, found: list) -> None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        where, extra = node.name, None
    if isinstance(node, ast.Try):
        calls = [
            call
            for handler in node.handlers
            for call in ast.walk(handler)
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "missing_extra"
        ]
        if calls:
            for child in node.body:
                _collect_imports(child, file, where, ast.literal_eval(calls[0].args[1]), found)
            return
    names = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
        names = [node.module or ""]
    for name in names:
        top = name.split(".")[0]
        if top not in DEPENDENCIES and top not in sys.stdlib_module_names:
            found.append((file, where, top, extra))
    for child in ast.iter_child_nodes(node):
        _collect_imports(child, file, where, extra, found)


def test_every_optional_import_names_its_extra():
    """Every import of an optional dependency is inside ``try`` with a ``missing_extra`` error
    that names the extra installing it, and EXTRA_ERRORS calls each such module or function
    (so the tests above check the message); scikit-learn and SciPy are never imported."""
    imports = optional_imports()
    assert {(f, m) for f, _, m, _ in imports} >= LAZY_IMPORTS  # none of them is stale
    # A function of a module that imports the dependency itself, guarded, finds it there.
    guarded = {(f, m) for f, where, m, extra in imports if where == "<module>" and extra}
    statements = " ".join(EXTRA_ERRORS)
    for file, where, module, extra in imports:
        if (file, module) in LAZY_IMPORTS or (where != "<module>" and (file, module) in guarded):
            continue
        assert module not in NOT_DEPENDENCIES, (
            f"{file} ({where}) imports {module}, which is no dependency of the companion: "
            "declare an extra in pyproject.toml (and name it with missing_extra), or do without"
        )
        installing = [e for e, modules in EXTRA_MODULES.items() if module in modules]
        assert installing, f"{file} ({where}) imports {module}, which no extra installs"
        assert extra in installing, (
            f"{file} ({where}) imports {module} without a missing_extra error naming an extra "
            f"that installs it ({' or '.join(map(repr, installing))}; it names {extra!r})"
        )
        dotted = file.removesuffix(".py").replace("/", ".")
        called = f"import {dotted}" if where == "<module>" else where
        assert called in statements, f"EXTRA_ERRORS does not exercise {dotted} ({where})"
