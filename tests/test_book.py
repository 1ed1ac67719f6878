"""Build the book from a clean copy of the repository and check the HTML in headless Chromium.

The build runs once per test session (it executes every notebook, about a minute). The browser
tests serve the built HTML on 127.0.0.1 and refuse every request that leaves this machine, so
they also prove that the book, MathJax included, works offline.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import inspect
import json
import pkgutil
import re
import shutil
import subprocess
import sysconfig
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
TOC_DOCS = [TOC["root"]] + [chapter["file"] for chapter in TOC["chapters"]]
NOTEBOOK_DOCS = [doc for doc in TOC_DOCS if (ROOT / doc).with_suffix(".ipynb").is_file()]
# Pages Sphinx writes besides the ones in the table of contents.
EXTRA_PAGES = ["genindex.html", "py-modindex.html", "search.html"]


def tracked_files() -> list[str]:
    """The files a fresh clone would have: tracked plus new files that git does not ignore."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return [name for name in out.split("\0") if name and (ROOT / name).is_file()]


# ---------------------------------------------------------------------------------------------
# The build


@pytest.fixture(scope="module")
def book_build(tmp_path_factory):
    """Copy the repository (no build outputs, caches or venvs) and build the book in the copy."""
    copy = tmp_path_factory.mktemp("clean-copy")
    for name in tracked_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    jupyter_book = Path(sysconfig.get_path("scripts")) / "jupyter-book"
    command = [str(jupyter_book), "build", str(copy), "-W", "-n", "--keep-going"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    seconds = time.perf_counter() - start
    log = f"$ {' '.join(command)}\n# {seconds:.1f} s, exit code {result.returncode}\n"
    log += result.stdout + result.stderr
    return {"root": copy, "html": copy / "_build" / "html", "result": result, "log": log}


def sphinx_warnings(log: str) -> list[str]:
    """Sphinx's warning lines (``path:line: WARNING: message``) with colour codes removed."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log)
    return [line for line in plain.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL):", line)]


def test_book_builds_from_clean_copy_without_warnings(book_build):
    log = book_build["log"]
    problems = sphinx_warnings(log)
    ok = book_build["result"].returncode == 0 and "build succeeded" in log and not problems
    if not ok:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "book-build.log").write_text(log)
    assert book_build["result"].returncode == 0, "book build failed:\n" + log[-6000:]
    assert "build succeeded" in log, log[-3000:]
    assert problems == [], "\n".join(problems)


def test_build_writes_every_toc_page(book_build):
    html = book_build["html"]
    missing = [doc for doc in TOC_DOCS if not (html / f"{doc}.html").is_file()]
    assert missing == []
    # MathJax is bundled with the book instead of loaded from a CDN.
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()


def public_api() -> dict[str, list[str]]:
    """Every public module of ``companion`` and the public functions and classes it defines."""
    import companion

    api = {}
    for info in pkgutil.walk_packages(companion.__path__, prefix="companion."):
        if info.ispkg or any(part.startswith("_") for part in info.name.split(".")):
            continue  # a package only re-exports its modules' names
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None) or [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module.__name__
        ]
        api[module.__name__] = sorted(names)
    return api


def test_api_page_documents_every_public_function(book_build):
    api = public_api()
    source = (ROOT / "book" / "api.md").read_text()
    undocumented_modules = [m for m in api if f".. automodule:: {m}\n" not in source]
    assert undocumented_modules == [], "add these modules to book/api.md"
    page = (book_build["html"] / "book" / "api.html").read_text()
    missing = [f"{m}.{n}" for m, names in api.items() for n in names if f'id="{m}.{n}"' not in page]
    assert missing == [], "not in the built API page (no docstring?)"


# ---------------------------------------------------------------------------------------------
# The browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


@pytest.fixture(scope="module")
def site(book_build):
    """Serve the built HTML on 127.0.0.1 (a free port) for the module's tests."""
    html = book_build["html"]
    if not (html / "index.html").is_file():
        pytest.fail("the book did not build, so there is nothing to serve")
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "html": html}
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def failures(site, browser):
    """Pages with problems; when any test here fails, screenshot every page to test-artifacts/."""
    failed: list[str] = []
    yield failed
    if failed:
        shots = ARTIFACTS / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        for page_path in [f"{doc}.html" for doc in TOC_DOCS] + EXTRA_PAGES:
            with open_page(browser, site["url"] + page_path) as visit:
                name = page_path.replace("/", "_").removesuffix(".html")
                visit.page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


class Visit:
    """One page load in a fresh browser context (a fresh profile: empty storage, no cookies)."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.console_errors: list[str] = []
        self.blocked: list[str] = []
        self.failed_requests: list[str] = []
        self.context.route("**/*", self._only_local)
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"pageerror: {error}"))
        self.page.on("requestfailed", lambda r: self.failed_requests.append(r.url))
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.failed_requests.append(f"{r.status} {r.url}"),
        )
        self.response = self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _only_local(self, route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _on_console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def close(self):
        self.context.close()


class open_page:  # noqa: N801 - used like a function: `with open_page(...) as visit`
    def __init__(self, browser, url: str):
        self.browser, self.url = browser, url

    def __enter__(self) -> Visit:
        self.visit = Visit(self.browser, self.url)
        return self.visit

    def __exit__(self, *exc):
        self.visit.close()


MATH_STATE_JS = r"""
async () => {
  const math = document.querySelectorAll('.math');
  if (math.length && window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  const raw = [];
  const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                           NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('pre, code, script, style, mjx-container, .highlight')) continue;
    if (/\$\$|\\\(|\\\[|\\begin\{/.test(node.textContent)) raw.push(node.textContent.trim());
  }
  return {
    mathElements: math.length,
    untypeset: Array.from(math).filter(m => !m.querySelector('mjx-container')).length,
    typeset: document.querySelectorAll('mjx-container').length,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    rawTex: raw.map(text => text.slice(0, 80)),
  };
}
"""

BROKEN_IMAGES_JS = """
() => Array.from(document.images)
        .filter(img => !(img.complete && img.naturalWidth > 0))
        .map(img => img.currentSrc || img.src)
"""

SIDEBAR_LINKS_JS = """
() => Array.from(document.querySelectorAll('nav.bd-docs-nav a.reference'))
        .map(a => new URL(a.getAttribute('href'), document.baseURI).pathname)
"""


def page_problems(visit: Visit, site_url: str, doc: str) -> list[str]:
    """Everything wrong with one loaded page of the book, as readable sentences."""
    problems = []
    if visit.response is None or visit.response.status != 200:
        status = None if visit.response is None else visit.response.status
        problems.append(f"HTTP status {status}")
    problems += [f"console error: {text}" for text in visit.console_errors]
    problems += [f"request left 127.0.0.1 (blocked): {url}" for url in visit.blocked]
    problems += [f"request failed: {url}" for url in visit.failed_requests]
    problems += [f"image did not load: {src}" for src in visit.page.evaluate(BROKEN_IMAGES_JS)]

    math = visit.page.evaluate(MATH_STATE_JS)
    if math["untypeset"]:
        problems.append(f"{math['untypeset']} of {math['mathElements']} math elements not typeset")
    if math["mathErrors"]:
        problems.append(f"{math['mathErrors']} MathJax errors")
    problems += [f"raw TeX visible: {text!r}" for text in math["rawTex"]]

    sidebar = set(visit.page.evaluate(SIDEBAR_LINKS_JS))
    for listed in TOC_DOCS:
        if urlsplit(site_url + listed + ".html").path not in sidebar:
            problems.append(f"sidebar does not link to {listed}")

    if doc in NOTEBOOK_DOCS:
        problems += notebook_button_problems(visit, doc)
    return problems


def notebook_button_problems(visit: Visit, doc: str) -> list[str]:
    """A chapter offers a Binder launch button and a download of its notebook."""
    problems = []
    repo = CONFIG["repository"]
    url_path = urlsplit(repo["url"]).path.strip("/")
    binder = f"{CONFIG['launch_buttons']['binderhub_url'].rstrip('/')}/v2/gh/{url_path}"
    binder += f"/{repo['branch']}?urlpath=lab/tree/{doc}.ipynb"
    page = visit.page
    if page.locator(f'a[href="{binder}"]').count() != 1:
        problems.append(f"no Binder launch link {binder}")
    if not page.locator("button[aria-label='Launch interactive content']").is_visible():
        problems.append("launch button not visible")
    if not page.locator("button[aria-label='Download this page']").is_visible():
        problems.append("download button not visible")
    download = page.locator(f'a[href$="_sources/{doc}.ipynb"]')
    if download.count() != 1:
        problems.append(f"no download link to {doc}.ipynb")
    else:
        href = download.evaluate("a => a.href")
        response = page.request.get(href)
        if response.status != 200:
            problems.append(f"notebook download {href} gave HTTP {response.status}")
    if page.locator(f'a[href="{repo["url"]}"]').count() < 1:
        problems.append(f"no repository button linking to {repo['url']}")
    return problems


def source_has_math(doc: str) -> bool:
    """Whether a page's markdown (a notebook's markdown cells) contains TeX math."""
    path = (ROOT / doc).with_suffix(".md")
    if path.is_file():
        text = path.read_text()
    else:
        cells = json.loads((ROOT / doc).with_suffix(".ipynb").read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.search(r"\$[^$\n]+\$|\{math\}|\\begin\{", text) is not None


@pytest.fixture(scope="module")
def typeset_counts() -> dict[str, int]:
    """mjx-container elements per page, shared so that each page is loaded once."""
    return {}


@pytest.mark.parametrize("doc", TOC_DOCS)
def test_page_in_browser(doc, site, browser, failures, typeset_counts):
    with open_page(browser, site["url"] + f"{doc}.html") as visit:
        problems = page_problems(visit, site["url"], doc)
        typeset_counts[doc] = visit.page.evaluate(MATH_STATE_JS)["typeset"]
    if problems:
        failures.append(doc)
    assert problems == []


def test_pages_with_math_are_typeset(site, browser, failures, typeset_counts):
    """The per-page check is vacuous without math: every page whose source has math shows it."""
    for doc in TOC_DOCS:
        if doc not in typeset_counts:
            with open_page(browser, site["url"] + f"{doc}.html") as visit:
                typeset_counts[doc] = visit.page.evaluate(MATH_STATE_JS)["typeset"]
    with_math = [doc for doc in TOC_DOCS if source_has_math(doc)]
    untypeset = [doc for doc in with_math if typeset_counts[doc] == 0]
    if untypeset or not with_math:
        failures.append("math")
    assert with_math, "no page has math: the math checks would be vacuous"
    assert untypeset == [], f"math in the source but none typeset: {typeset_counts}"


def load_problems(visit: Visit) -> list[str]:
    """HTTP status, console errors and requests that failed or tried to leave the machine."""
    problems = [f"console error: {text}" for text in visit.console_errors]
    problems += [f"request left 127.0.0.1 (blocked): {url}" for url in visit.blocked]
    problems += [f"request failed: {url}" for url in visit.failed_requests]
    if visit.response is None or visit.response.status != 200:
        problems.append("HTTP status is not 200")
    return problems


@pytest.mark.parametrize("page_path", ["index.html", *EXTRA_PAGES])
def test_other_pages_load_cleanly(page_path, site, browser, failures):
    with open_page(browser, site["url"] + page_path) as visit:
        problems = load_problems(visit)
        if page_path == "index.html" and not visit.page.url.endswith(f"{TOC['root']}.html"):
            problems.append(f"index.html did not redirect to the landing page: {visit.page.url}")
    if problems:
        failures.append(page_path)
    assert problems == []


def test_source_code_pages_load_cleanly(site, browser, failures):
    """The highlighted module sources that the API page's [source] links lead to."""
    pages = sorted(
        p.relative_to(site["html"]).as_posix() for p in site["html"].glob("_modules/**/*.html")
    )
    assert pages, "no module source pages were built"
    problems = {}
    for page_path in pages:
        with open_page(browser, site["url"] + page_path) as visit:
            if found := load_problems(visit):
                problems[page_path] = found
    if problems:
        failures.append("_modules")
    assert problems == {}
