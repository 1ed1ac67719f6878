"""The GitHub Actions workflows: valid, least-privileged, and in step with the rest of the repo.

GitHub cannot be reached from here, so the workflows are checked statically: against GitHub's
workflow JSON schema (the copy vendored in check-jsonschema), by zizmor's offline audits, and by
the assertions below on what each one runs and may do.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ["tests", "pages", "release"]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ALL = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def workflow(name: str) -> dict[str, Any]:
    (path,) = [path for path in ALL if path.stem == name]
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as the boolean true
    return data


def steps(name: str) -> list[dict[str, Any]]:
    return [step for job in workflow(name)["jobs"].values() for step in job["steps"]]


def runs(name: str) -> list[str]:
    return [step["run"] for step in steps(name) if "run" in step]


def uses(name: str) -> list[str]:
    return [step["uses"] for step in steps(name) if "uses" in step]


def test_the_three_workflows_exist():
    assert {p.stem for p in ALL} >= set(NAMES)


def test_workflows_are_valid_against_githubs_schema():
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema"]
    result = subprocess.run(
        [*command, "vendor.github-workflows", *map(str, ALL)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing():
    zizmor = Path(sysconfig.get_path("scripts")) / "zizmor"
    result = subprocess.run(
        [str(zizmor), "--offline", "--strict-collection", "--no-progress", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit(path):
    for action in uses(path.stem):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
    text = path.read_text()
    # ...with the release it is, for a reader and for an updater
    assert all(
        re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line)
        for line in text.splitlines()
        if "uses:" in line
    )


def test_tests_run_the_readme_command_on_every_push_and_pull_request():
    tests = workflow("tests")
    assert set(tests["on"]) == {"push", "pull_request"}
    assert tests["permissions"] == {"contents": "read"}
    (job,) = tests["jobs"].values()
    assert "permissions" not in job
    # .ci/run installs Debian's chromium and the requirements, then runs the README's test
    # command (tests/test_book_docs.py checks that last line)
    assert job["container"].startswith("python:") and "bookworm" in job["container"]
    assert "bash .ci/run" in runs("tests")
    ci_run = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install -y chromium" in ci_run
    assert job["env"]["CI"] == "true"


def test_pages_builds_the_book_and_only_the_deploy_job_may_publish():
    pages = workflow("pages")
    assert pages["permissions"] == {}
    assert pages["concurrency"]["group"] and pages["concurrency"]["cancel-in-progress"] is False
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]
    assert build["permissions"] == {"contents": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert "python -m pip install -r requirements.txt" in runs("pages")
    assert "jupyter-book build . -W -n --keep-going" in runs("pages")
    (upload,) = [s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "_build/html"
    assert any("actions/deploy-pages@" in step["uses"] for step in deploy["steps"])
    # the site's address follows from the repository, so a fork changes nothing here
    assert not re.search(r"https://[\w-]+\.github\.io", (WORKFLOWS / "pages.yml").read_text())


def test_release_builds_on_a_tag_and_publishes_by_trusted_publishing():
    release = workflow("release")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {}
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["needs"] == "build" and publish["environment"]["name"] == "pypi"
    assert "python -m build" in runs("release")
    (pypi,) = [s for s in publish["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert "password" not in pypi.get("with", {}), "trusted publishing needs no token"


def test_workflows_install_the_versions_pinned_in_requirements():
    pinned = dict(
        line.split("==")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if re.fullmatch(r"[\w.-]+==[\w.]+", line)
    )
    for name in [path.stem for path in ALL]:
        for command in runs(name):
            for package, version in re.findall(r"pip install ([\w.-]+)==([\w.]+)", command):
                assert pinned[package] == version, f"{name}.yml: {package}=={version}"


def test_every_python_is_the_same_version():
    version = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    (test_job,) = workflow("tests")["jobs"].values()
    assert test_job["container"].startswith(f"python:{version}-")
    for name in ["pages", "release"]:
        setups = [s for s in steps(name) if "actions/setup-python@" in s.get("uses", "")]
        assert [s["with"]["python-version"] for s in setups] == [version]
    assert f"Programming Language :: Python :: {version}" in PYPROJECT["project"]["classifiers"]


def test_project_urls_point_at_the_repository_and_its_published_book():
    urls = PYPROJECT["project"]["urls"]
    owner, repository = re.fullmatch(
        r"https://github\.com/([\w.-]+)/([\w.-]+)", urls["Source"]
    ).groups()
    site = f"https://{owner}.github.io/{repository}/"
    assert urls["Documentation"] == site
    assert urls["Issues"] == f"{urls['Source']}/issues"
    assert site in (ROOT / "README.md").read_text()
    assert site in (ROOT / "companion" / "README.md").read_text()
