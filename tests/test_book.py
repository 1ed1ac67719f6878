"""Build the book from a clean copy of the repository and check the HTML in headless Chromium.

The build runs once per test session (it executes every notebook, about a minute). The browser
tests serve the built HTML on 127.0.0.1 and refuse every request that leaves this machine, so
they also prove that the book, MathJax included, works offline.

Each page of the table of contents is loaded once at a desktop size (1280x900) and once at a
phone size (390x844, mobile, device scale factor 2), in one browser context per size. Everything
the tests need from a page is measured during that one visit, including what real clicks do (the
navigation toggles, following a chapter link), and kept in a `PageReport`; the tests then check
the reports, one test per reader-visible property and page, so that a failure names both.

When a browser test fails, every page of the table of contents is screenshot at both sizes (full
page) into test-artifacts/screenshots/.

The browser is Chromium: $CHROMIUM or $PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH (a path or a command
name), else `chromium`, `chromium-browser` or `google-chrome` on PATH. Without one the browser
tests are skipped with the reason, except when $CI is set: there a missing browser fails them.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import inspect
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sysconfig
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from book_toc import TOC, TOC_DOCS, clean_copy

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ENV = ("CHROMIUM", "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH")
CHROMIUM_COMMANDS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
NOTEBOOK_DOCS = [doc for doc in TOC_DOCS if (ROOT / doc).with_suffix(".ipynb").is_file()]
# Every chapter and the API page get the reader checks; the other pages too, where they apply.
API_DOC = "book/api"
# Pages Sphinx writes besides the ones in the table of contents.
EXTRA_PAGES = ["genindex.html", "py-modindex.html", "search.html"]


# ---------------------------------------------------------------------------------------------
# The build


@pytest.fixture(scope="module")
def book_build(tmp_path_factory):
    """Copy the repository (no build outputs, caches or venvs) and build the book in the copy."""
    copy = clean_copy(tmp_path_factory.mktemp("clean-copy"))
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


def signatures(page: str) -> dict[str, str]:
    """The API page's signatures (``dt.sig``) by object id, as HTML."""
    found = re.findall(r'<dt class="sig sig-object py" id="([^"]+)">(.*?)</dt>', page, re.S)
    return dict(found)


def test_api_signatures_name_the_array_types_and_hide_unreadable_values(book_build):
    """The losses show Array/ArrayLike (linked to their definitions), never Any; no constant's
    value is dumped as a function repr."""
    page = (book_build["html"] / "book" / "api.html").read_text()
    sigs = signatures(page)
    problems = []
    for name in ("companion._typing.Array", "companion._typing.ArrayLike"):
        if name not in sigs:
            problems.append(f"{name} is not documented on the API page")
    losses = {k: v for k, v in sigs.items() if k.startswith("companion.losses.")}
    if not losses:
        problems.append("no loss is documented under companion.losses")
    for name, html in losses.items():
        text = re.sub(r"<[^>]+>", "", html)
        if re.search(r"\bAny\b", text):
            problems.append(f"{name}: a type shows as Any")
        if not re.search(r'href="#companion\._typing\.Array(Like)?"', html):
            problems.append(f"{name}: its array types do not link to Array/ArrayLike")
    dumped = [k for k, v in sigs.items() if "&lt;function" in v or "<function" in v]
    problems += [f"{name}: value printed as a function repr" for name in dumped]
    assert problems == []


# "Huber (1964)", "(Huber, 1964)", "(Huber, 1964; Girshick, 2015)", "(n.d.)" for no year.
AUTHOR_YEAR_CITATION = r"\((\d{4}|n\.d\.)[a-z]?\)|\(.+, (\d{4}|n\.d\.)[a-z]?\)"


def test_references_are_author_year_and_link_back_to_every_citing_page(book_build):
    """Bibliography labels read like the text's citations, and each entry links back to every
    page (and the first place on it) that cites it."""
    html = book_build["html"]
    refs = (html / "book" / "references.html").read_text()
    entries = re.findall(r'<div class="citation" id="([^"]+)"[^>]*>(.*?)</div>', refs, re.S)
    assert entries, "the references page lists no entries"
    problems = []
    back_links: dict[str, set[str]] = {}
    for entry_id, body in entries:
        label = re.search(r'<span class="label">(.*?)</span>\s*<p', body, re.S)
        text = re.sub(r"<[^>]+>", "", label.group(1) if label else "")
        text = text.strip("[]")
        if not re.fullmatch(r"\S.*, (\d{4}|n\.d\.)[a-z]?", text):
            problems.append(f"label {text!r} is not 'Author, year'")
        back_links[entry_id] = set(
            re.findall(r'<a class="reference internal" href="([^"]+)"', body)
        )
    for doc in TOC_DOCS:
        if doc == "book/references":
            continue
        page = (html / f"{doc}.html").read_text()
        first: dict[str, str] = {}
        for span_id, inner in re.findall(
            r'<span class="bibtex-citation" id="([^"]+)">(.*?)</span>', page, re.S
        ):
            for entry_id in re.findall(r'href="references\.html#([^"]+)"', inner):
                first.setdefault(entry_id, span_id)
            plain = re.sub(r"<[^>]+>", "", inner)
            if not re.search(AUTHOR_YEAR_CITATION, plain):
                problems.append(f"{doc}: citation {plain!r} is not author-year in round brackets")
        name = Path(doc).name
        for entry_id, span_id in first.items():
            if f"{name}.html#{span_id}" not in back_links.get(entry_id, set()):
                problems.append(f"references entry {entry_id} does not link back to {doc}")
    assert problems == []


def test_execution_statistics_list_every_chapter_with_time_and_status(book_build):
    html = book_build["html"]
    page = (html / "book" / "execution_statistics.html").read_text()
    by_link = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S):
        cells = [
            re.sub(r"<[^>]+>|\s+", " ", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        link = re.search(r'href="([^"#]+)\.html"', row)
        if cells and link:
            by_link[link.group(1)] = cells
    problems = []
    for doc in NOTEBOOK_DOCS:
        row = by_link.get(Path(doc).name)
        if row is None:
            problems.append(f"{doc} is not in the table")
            continue
        runtime, status = row[-2], row[-1]
        if not re.fullmatch(r"\d+(\.\d+)?", runtime):
            problems.append(f"{doc}: run time {runtime!r}")
        if status != "ran":
            problems.append(f"{doc}: status {status!r}")
    assert problems == []


# ---------------------------------------------------------------------------------------------
# The browser


def find_chromium() -> tuple[str | None, str]:
    """The Chromium to drive, and where it came from (or why there is none)."""
    for variable in CHROMIUM_ENV:
        value = os.environ.get(variable)
        if value:
            path = shutil.which(value)
            if path is None:
                raise RuntimeError(f"${variable}={value!r} is not an executable browser")
            return path, f"${variable}"
    for command in CHROMIUM_COMMANDS:
        path = shutil.which(command)
        if path:
            return path, f"{command} on PATH"
    why = (
        "no Chromium found: set $CHROMIUM to its path, or put one of "
        f"{', '.join(CHROMIUM_COMMANDS)} on PATH (Debian: apt-get install chromium)"
    )
    return None, why


def test_find_chromium_prefers_the_environment_then_path(monkeypatch, tmp_path):
    browser = tmp_path / "my-chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    other = tmp_path / "bin"
    other.mkdir()
    (other / "chromium-browser").write_text("#!/bin/sh\n")
    (other / "chromium-browser").chmod(0o755)
    monkeypatch.setenv("PATH", str(other))
    for variable in CHROMIUM_ENV:
        monkeypatch.delenv(variable, raising=False)
    assert find_chromium() == (str(other / "chromium-browser"), "chromium-browser on PATH")
    monkeypatch.setenv("PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH", str(browser))
    assert find_chromium() == (str(browser), "$PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH")
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match=r"\$CHROMIUM='.*missing' is not an executable"):
        find_chromium()
    monkeypatch.delenv("CHROMIUM")
    monkeypatch.delenv("PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    path, why = find_chromium()
    assert path is None and "set $CHROMIUM" in why


@pytest.fixture(scope="module")
def browser():
    path, why = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; $CI is set, so the browser tests may not be skipped")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


@pytest.fixture(scope="module")
def site(browser, book_build):
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


@dataclass
class PageReport:
    """What one page load showed: what went wrong while loading, and the page's measurements."""

    url: str
    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    favicon: list[str] = field(default_factory=list)
    navigation: list[str] = field(default_factory=list)
    error: str | None = None

    def load_problems(self) -> list[str]:
        problems = [] if self.error is None else [f"the visit failed: {self.error}"]
        if self.status != 200:
            problems.append(f"HTTP status {self.status}")
        problems += [f"console error: {text}" for text in self.console_errors]
        problems += [f"request left 127.0.0.1 (blocked): {url}" for url in self.blocked]
        problems += [f"request failed: {url}" for url in self.failed_requests]
        return problems


class Browsing:
    """One browser context per viewport, reused for every page; each page is visited once."""

    def __init__(self, browser, site_url: str):
        self.browser, self.site_url = browser, site_url
        self.contexts: dict[str, Any] = {}
        self.reports: dict[tuple[str, str], PageReport] = {}

    def context(self, viewport: str):
        if viewport not in self.contexts:
            context = self.browser.new_context(**VIEWPORTS[viewport])
            context.set_default_timeout(10_000)
            # Loading a page may take longer than a click: the API page typesets about 650
            # formulas before its load event (about 5 s on a busy 2-core machine).
            context.set_default_navigation_timeout(30_000)
            context.route("**/*", self._only_local)
            self.contexts[viewport] = context
        return self.contexts[viewport]

    def _only_local(self, route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def report(self, viewport: str, page_path: str) -> PageReport:
        key = (viewport, page_path)
        if key not in self.reports:
            self.reports[key] = self._visit(viewport, page_path)
        return self.reports[key]

    def _visit(self, viewport: str, page_path: str) -> PageReport:
        report = PageReport(url=self.site_url + page_path)
        self.blocked = report.blocked
        page = self.context(viewport).new_page()
        page.on("console", lambda m: m.type == "error" and report.console_errors.append(m.text))
        page.on("pageerror", lambda error: report.console_errors.append(f"pageerror: {error}"))
        page.on("requestfailed", lambda r: report.failed_requests.append(r.url))
        page.on(
            "response",
            lambda r: r.status >= 400 and report.failed_requests.append(f"{r.status} {r.url}"),
        )
        try:
            response = page.goto(report.url, wait_until="load")
            report.status = None if response is None else response.status
            page.wait_for_load_state("networkidle")
            if page_path.endswith(".html") and page_path[:-5] in TOC_DOCS:
                doc = page_path[:-5]
                report.data = page.evaluate(MEASURE_JS, viewport)
                report.favicon = favicon_problems(page)
                if viewport == "desktop":
                    report.data["math"] = page.evaluate(MATH_STATE_JS)
                    report.data["sidebar"] = page.evaluate(SIDEBAR_LINKS_JS)
                    report.data["buttons"] = (
                        notebook_button_problems(page, doc) if doc in NOTEBOOK_DOCS else []
                    )
                    report.navigation = desktop_navigation_problems(page)
                else:
                    report.navigation = phone_navigation_problems(page, self.site_url, doc)
            else:
                report.data["url"] = page.url
        except Exception as error:  # noqa: BLE001 - a broken page is a finding, not a crash
            report.error = f"{type(error).__name__}: {error}".splitlines()[0]
        finally:
            page.close()
        return report

    def close(self):
        for context in self.contexts.values():
            context.close()


@pytest.fixture(scope="module")
def browsing(browser, site):
    session = Browsing(browser, site["url"])
    yield session
    session.close()


@pytest.fixture(scope="module")
def failures(browser, site):
    """Problems found in the browser; when there are any, they are listed in
    test-artifacts/browser-problems.txt and every page of the table of contents is screenshot at
    both sizes into test-artifacts/screenshots/."""
    failed: list[str] = []
    yield failed
    if failed:
        shots = ARTIFACTS / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "browser-problems.txt").write_text("\n".join(failed) + "\n")
        for viewport, options in VIEWPORTS.items():
            context = browser.new_context(**options)
            page = context.new_page()
            for doc in TOC_DOCS:
                page.goto(site["url"] + f"{doc}.html", wait_until="load")
                page.wait_for_load_state("networkidle")
                page.evaluate(WAIT_FOR_MATH_JS)
                name = doc.replace("/", "_")
                page.screenshot(
                    path=str(shots / f"{name}-{viewport}.png"), full_page=True, scale="css"
                )
            context.close()


# ---------------------------------------------------------------------------------------------
# What is measured on a page (JavaScript run in the page), and what real clicks do

WAIT_FOR_MATH_JS = """
async () => {
  if (document.querySelector('.math') && window.MathJax && MathJax.startup) {
    await MathJax.startup.promise;
  }
}
"""

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

SIDEBAR_LINKS_JS = """
() => Array.from(document.querySelectorAll('nav.bd-docs-nav a.reference'))
        .map(a => new URL(a.getAttribute('href'), document.baseURI).pathname)
"""

# One pass over the page: widths, figures, exercises, search boxes. Dropdowns are opened while
# code and equations are measured (code in a solution must fit too) and closed again after.
MEASURE_JS = r"""
async (viewport) => {
  if (document.querySelector('.math') && window.MathJax && MathJax.startup) {
    await MathJax.startup.promise;
  }
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const shown = e => {
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden';
  };
  const closed = Array.from(document.querySelectorAll('details:not([open])'));
  closed.forEach(d => { d.open = true; });
  const column = article.getBoundingClientRect();
  const widePre = Array.from(article.querySelectorAll('pre')).filter(shown).filter(
    p => p.scrollWidth > p.clientWidth + 1 || p.getBoundingClientRect().right > column.right + 1
  ).map(p => {
    const lines = p.textContent.split('\n');
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    return {overflow: p.scrollWidth - p.clientWidth, chars: longest.length,
            line: longest.trim().slice(0, 70)};
  });
  const wideMath = Array.from(article.querySelectorAll('mjx-container[display="true"]'))
    .filter(shown).map(c => {
      const m = c.querySelector('mjx-math');
      const width = Math.max(m ? m.getBoundingClientRect().width : 0, c.scrollWidth);
      return {width: Math.round(width), room: c.clientWidth,
              tex: (c.getAttribute('aria-label') || c.textContent).slice(0, 70)};
    }).filter(m => m.width > m.room + 1);
  closed.forEach(d => { d.open = false; });

  const root = document.documentElement;
  const pageWidth = Math.max(root.scrollWidth, document.body.scrollWidth);
  const tooWide = Array.from(article.querySelectorAll('*')).filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > root.clientWidth + 1;
  }).filter(e => !e.parentElement.closest('pre, .highlight, table, mjx-container'))
    .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className}`.slice(0, 60));

  const images = Array.from(article.querySelectorAll('img')).map(img => {
    const src = img.currentSrc || img.src;
    const figure = img.closest('figure');
    const caption = figure ? figure.querySelector('figcaption') : null;
    return {src: src.split('/').pop().slice(0, 40), alt: img.getAttribute('alt') || '',
            svg: /\.svg([?#]|$)/i.test(src) || src.startsWith('data:image/svg'),
            natural: img.naturalWidth, displayed: img.getBoundingClientRect().width,
            caption: caption ? caption.textContent.trim() : ''};
  });
  const theme = root.dataset.theme;
  root.dataset.theme = 'dark';
  const darkBackgrounds = Array.from(article.querySelectorAll('img'))
    .map(img => getComputedStyle(img).backgroundColor);
  root.dataset.theme = theme;
  images.forEach((image, i) => { image.darkBackground = darkBackgrounds[i]; });

  const titleOf = a => (a.querySelector(':scope > .admonition-title') || {textContent: ''})
    .textContent.trim();
  const exercises = Array.from(article.querySelectorAll('.admonition'))
    .filter(a => /^Exercise\b/.test(titleOf(a)))
    .map(a => {
      const next = a.nextElementSibling;
      const isDropdown = next && next.matches('details.sd-dropdown');
      return {title: titleOf(a), classes: Array.from(a.classList).sort().join(' '),
              tag: a.tagName.toLowerCase(),
              solution: isDropdown ? next.querySelector('summary').textContent.trim() : null};
    });
  // Toggles other than sphinx-design dropdowns (myst-nb's hidden cells, togglebutton), and
  // Solution dropdowns that do not follow an exercise.
  const toggles = Array.from(article.querySelectorAll(
    'details:not(.sd-dropdown), .toggle-button, button.toggle'))
    .map(t => `${t.tagName.toLowerCase()}.${Array.from(t.classList).join('.')}: ` +
              (t.querySelector('summary') || t).textContent.trim().split('\n')[0].slice(0, 40));
  const orphanSolutions = Array.from(article.querySelectorAll('details.sd-dropdown'))
    .filter(d => d.querySelector('summary').textContent.trim() === 'Solution')
    .filter(d => !(d.previousElementSibling &&
                   /^Exercise\b/.test(titleOf(d.previousElementSibling)))).length;
  const plainSolutionCode = Array.from(article.querySelectorAll(
    'details.sd-dropdown div.highlight-none, details.sd-dropdown div.highlight-text')).length;

  const searchSelector = '.search-button-field, button.search-button, input[type="search"]';
  const search = Array.from(document.querySelectorAll(searchSelector)).filter(shown);
  const searchBoxes = search.filter(e => !search.some(o => o !== e && o.contains(e)))
    .map(e => `${e.tagName.toLowerCase()}.${Array.from(e.classList).join('.')}`);
  const icons = Array.from(document.querySelectorAll('link[rel~="icon"]')).map(l => l.href);
  const prev = document.querySelector('.prev-next-area a.left-prev');
  const next = document.querySelector('.prev-next-area a.right-next');
  return {widePre, wideMath, pageWidth, viewportWidth: window.innerWidth, tooWide, images,
          exercises, toggles, orphanSolutions, plainSolutionCode, searchBoxes, icons,
          prev: prev ? new URL(prev.getAttribute('href'), document.baseURI).pathname : null,
          next: next ? new URL(next.getAttribute('href'), document.baseURI).pathname : null};
}
"""

DRAWER_OPEN_JS = """
selector => {
  const s = document.querySelector(selector);
  if (!s) { return false; }
  const r = s.getBoundingClientRect();
  return getComputedStyle(s).visibility === 'visible' && r.width > 100 &&
         r.left >= -1 && r.right <= window.innerWidth + 1;
}
"""


def favicon_problems(page) -> list[str]:
    """The page declares a favicon, and it loads as an image."""
    icons = page.evaluate(
        "() => Array.from(document.querySelectorAll('link[rel~=\"icon\"]')).map(l => l.href)"
    )
    if not icons:
        return ["no favicon (<link rel='icon'>)"]
    problems = []
    for href in icons:
        response = page.request.get(href)
        kind = response.headers.get("content-type", "")
        if response.status != 200 or not kind.startswith("image/") or not response.body():
            problems.append(f"favicon {href} gave HTTP {response.status} ({kind})")
    return problems


def desktop_navigation_problems(page) -> list[str]:
    """On a desktop the navigation toggle hides the chapter list and a second click shows it."""
    from playwright.sync_api import Error as PlaywrightError

    toggle = page.locator(".primary-toggle:visible")
    if toggle.count() != 1:
        return [f"{toggle.count()} visible navigation toggles (want 1)"]
    sidebar = ".bd-sidebar-primary"
    problems = []
    try:
        if not page.evaluate(DRAWER_OPEN_JS, sidebar):
            return ["the chapter list is not shown on a desktop"]
        toggle.click()
        page.wait_for_function(f"() => !({DRAWER_OPEN_JS})({sidebar!r})", timeout=3000)
        toggle.click()
        page.wait_for_function(f"() => ({DRAWER_OPEN_JS})({sidebar!r})", timeout=3000)
    except PlaywrightError as error:
        problems.append(
            f"the navigation toggle does not hide and show the chapter list ({error})".splitlines()[
                0
            ]
        )
    return problems


def phone_navigation_problems(page, site_url: str, doc: str) -> list[str]:
    """On a phone the page-contents toggle opens the page's contents (where it has them), the
    navigation toggle opens the chapter list, and a chapter link in it can be followed."""
    from playwright.sync_api import Error as PlaywrightError

    problems = []
    secondary = page.locator(".secondary-toggle:visible")
    if secondary.count():
        try:
            secondary.click()
            page.wait_for_function(
                f"() => ({DRAWER_OPEN_JS})('.bd-sidebar-secondary')", timeout=3000
            )
            page.keyboard.press("Escape")
            page.wait_for_function(
                f"() => !({DRAWER_OPEN_JS})('.bd-sidebar-secondary')", timeout=3000
            )
        except PlaywrightError:
            problems.append("the page-contents toggle does not open and close the contents")
    toggle = page.locator(".primary-toggle:visible")
    if toggle.count() != 1:
        return [*problems, f"{toggle.count()} visible navigation toggles (want 1)"]
    try:
        toggle.click()
        page.wait_for_function(f"() => ({DRAWER_OPEN_JS})('.bd-sidebar-primary')", timeout=3000)
    except PlaywrightError:
        return [*problems, "the navigation toggle does not open the chapter list"]
    position = TOC_DOCS.index(doc)
    target = TOC_DOCS[(position + 1) % len(TOC_DOCS)]
    href = urlsplit(urljoin(site_url, f"{target}.html")).path
    links = page.locator(".bd-sidebar-primary nav.bd-docs-nav a.reference")
    link = next(
        (
            links.nth(i)
            for i in range(links.count())
            if urlsplit(urljoin(page.url, links.nth(i).get_attribute("href"))).path == href
        ),
        None,
    )
    if link is None:
        return [*problems, f"the chapter list has no link to {target}"]
    try:
        # Waits for the new page's load event, within the context's navigation timeout.
        with page.expect_navigation():
            link.click()
        if urlsplit(page.url).path != href:
            problems.append(f"following the link to {target} led to {page.url}")
    except PlaywrightError as error:
        problems.append(
            f"the link to {target} in the chapter list cannot be followed ({error})".splitlines()[0]
        )
    return problems


def notebook_button_problems(page, doc: str) -> list[str]:
    """A chapter offers a Binder launch button and a download of its notebook."""
    problems = []
    repo = CONFIG["repository"]
    url_path = urlsplit(repo["url"]).path.strip("/")
    binder = f"{CONFIG['launch_buttons']['binderhub_url'].rstrip('/')}/v2/gh/{url_path}"
    binder += f"/{repo['branch']}?urlpath=lab/tree/{doc}.ipynb"
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


# ---------------------------------------------------------------------------------------------
# The checks, one per property a reader sees; each page is loaded once per viewport


def check(failures: list[str], name: str, problems: list[str]) -> None:
    """Fail with every problem on its own line, and note them for test-artifacts/."""
    failures += [f"{name}: {problem}" for problem in problems]
    assert problems == [], f"{name}:\n  " + "\n  ".join(problems)


def chapter_number(doc: str) -> int | None:
    digits = re.match(r"(\d+)_", Path(doc).name)
    return int(digits.group(1)) if digits else None


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("doc", TOC_DOCS)
def test_page_loads_cleanly_with_a_favicon(doc, viewport, browsing, failures):
    """HTTP 200, no console errors, no failed or outside requests, images load, a favicon."""
    report = browsing.report(viewport, f"{doc}.html")
    problems = report.load_problems() + report.favicon
    broken = [i["src"] for i in report.data.get("images", []) if not i["natural"]]
    problems += [f"image did not load: {src}" for src in broken]
    check(failures, f"{doc} ({viewport})", problems)


@pytest.mark.parametrize("doc", TOC_DOCS)
def test_math_is_typeset_offline(doc, browsing, failures):
    report = browsing.report("desktop", f"{doc}.html")
    math = report.data.get("math")
    assert math is not None, report.load_problems()
    problems = []
    if math["untypeset"]:
        problems.append(f"{math['untypeset']} of {math['mathElements']} math elements not typeset")
    if math["mathErrors"]:
        problems.append(f"{math['mathErrors']} MathJax errors")
    problems += [f"raw TeX visible: {text!r}" for text in math["rawTex"]]
    check(failures, doc, problems)


def source_has_math(doc: str) -> bool:
    """Whether a page's markdown (a notebook's markdown cells) contains TeX math."""
    path = (ROOT / doc).with_suffix(".md")
    if path.is_file():
        text = path.read_text()
    else:
        cells = json.loads((ROOT / doc).with_suffix(".ipynb").read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.search(r"\$[^$\n]+\$|\{math\}|\\begin\{", text) is not None


def test_pages_with_math_are_typeset(browsing, failures):
    """The per-page check is vacuous without math: every page whose source has math shows it."""
    typeset = {
        doc: browsing.report("desktop", f"{doc}.html").data.get("math", {}).get("typeset", 0)
        for doc in TOC_DOCS
    }
    with_math = [doc for doc in TOC_DOCS if source_has_math(doc)]
    problems = [
        f"{doc}: math in the source but none typeset" for doc in with_math if not typeset[doc]
    ]
    if not with_math:
        problems.append("no page has math: the math checks would be vacuous")
    check(failures, "math", problems)


@pytest.mark.parametrize("doc", TOC_DOCS)
def test_desktop_has_one_search_box_and_links_every_page(doc, browsing, failures, site):
    data = browsing.report("desktop", f"{doc}.html").data
    problems = []
    if len(data.get("searchBoxes", [])) != 1:
        problems.append(
            f"{len(data.get('searchBoxes', []))} search boxes: {data.get('searchBoxes')}"
        )
    sidebar = set(data.get("sidebar", []))
    for listed in TOC_DOCS:
        if urlsplit(site["url"] + listed + ".html").path not in sidebar:
            problems.append(f"sidebar does not link to {listed}")
    check(failures, doc, problems)


@pytest.mark.parametrize("doc", TOC_DOCS)
def test_prev_and_next_links_follow_the_table_of_contents(doc, browsing, failures, site):
    data = browsing.report("desktop", f"{doc}.html").data
    position = TOC_DOCS.index(doc)
    path = lambda d: urlsplit(site["url"] + f"{d}.html").path  # noqa: E731
    want_prev = path(TOC_DOCS[position - 1]) if position > 0 else None
    want_next = path(TOC_DOCS[position + 1]) if position + 1 < len(TOC_DOCS) else None
    problems = []
    if data.get("prev") != want_prev:
        problems.append(f"previous link {data.get('prev')}, want {want_prev}")
    if data.get("next") != want_next:
        problems.append(f"next link {data.get('next')}, want {want_next}")
    check(failures, doc, problems)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("doc", TOC_DOCS)
def test_navigation_toggles_work(doc, viewport, browsing, failures):
    """Real clicks: on a phone the toggle opens the chapter list and a chapter link in it is
    followed; on a desktop it hides and shows the list."""
    report = browsing.report(viewport, f"{doc}.html")
    check(failures, f"{doc} ({viewport})", report.load_problems() + report.navigation)


@pytest.mark.parametrize("doc", TOC_DOCS)
def test_code_and_equations_fit_the_column_on_desktop(doc, browsing, failures):
    data = browsing.report("desktop", f"{doc}.html").data
    problems = [
        f"code/output {p['overflow']} px wider than the column ({p['chars']} chars): {p['line']!r}"
        for p in data.get("widePre", [])
    ]
    problems += [
        f"equation {m['width']} px wide in {m['room']} px: {m['tex']!r}"
        for m in data.get("wideMath", [])
    ]
    check(failures, doc, problems)


@pytest.mark.parametrize("doc", TOC_DOCS)
def test_page_fits_a_phone_screen(doc, browsing, failures):
    data = browsing.report("phone", f"{doc}.html").data
    width = VIEWPORTS["phone"]["viewport"]["width"]
    problems = []
    if data.get("pageWidth", width + 1) > width:
        problems.append(
            f"page is {data.get('pageWidth')} px wide on a {width} px screen "
            f"(widest: {data.get('tooWide')})"
        )
    check(failures, doc, problems)


def alt_text_problem(alt: str) -> str | None:
    """Why an image's alt text does not describe it, or None."""
    text = alt.strip()
    if not text:
        return "no alt text"
    if re.search(r"\.(png|svg|jpe?g|gif|webp)$|_images/|[0-9a-f]{16}", text, re.I):
        return f"alt text is a file name: {text[:50]!r}"
    if len(text.split()) < 4:
        return f"alt text too short to say what the figure shows: {text!r}"
    return None


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("doc", TOC_DOCS)
def test_figures_are_crisp_captioned_with_alt_text(doc, viewport, browsing, failures):
    """SVG or a bitmap with at least 2 pixels per CSS pixel, real alt text, a caption, and a
    solid background in dark mode."""
    problems = []
    for image in browsing.report(viewport, f"{doc}.html").data.get("images", []):
        name = image["src"]
        if not image["svg"] and image["natural"] < 2 * image["displayed"]:
            problems.append(
                f"{name}: a {image['natural']} px bitmap shown {image['displayed']:.0f} px wide"
            )
        if reason := alt_text_problem(image["alt"]):
            problems.append(f"{name}: {reason}")
        if not image["caption"]:
            problems.append(f"{name}: no caption")
        background = image["darkBackground"]
        if background == "transparent" or re.fullmatch(r"rgba\(.*, 0\)", background):
            problems.append(f"{name}: transparent background in dark mode")
    check(failures, f"{doc} ({viewport})", problems)


@pytest.mark.parametrize("doc", TOC_DOCS)
def test_exercises_share_one_style(doc, browsing, failures):
    """'Exercise N.k: title' admonitions of one class, each followed by a sphinx-design dropdown
    titled Solution with highlighted code; no toggle of another kind (hidden cells) on the
    page."""
    data = browsing.report("desktop", f"{doc}.html").data
    exercises = data.get("exercises", [])
    problems = [f"stray toggle: {toggle}" for toggle in data.get("toggles", [])]
    if data.get("orphanSolutions"):
        problems.append(f"{data['orphanSolutions']} Solution dropdowns follow no exercise")
    if data.get("plainSolutionCode"):
        problems.append(f"{data['plainSolutionCode']} solution code blocks are not highlighted")
    styles = {(e["tag"], e["classes"]) for e in exercises}
    if exercises and styles != {("div", "admonition tip")}:
        problems.append(f"exercise styles {sorted(styles)}, want one: div 'admonition tip'")
    chapter = chapter_number(doc)
    for k, exercise in enumerate(exercises, start=1):
        title = exercise["title"]
        if not re.fullmatch(rf"Exercise {chapter}\.{k}: \S.*", title):
            problems.append(f"{title!r} is not 'Exercise {chapter}.{k}: <title>'")
        if exercise["solution"] != "Solution":
            problems.append(f"{title!r} is not followed by a dropdown titled Solution")
    check(failures, doc, problems)


def test_the_book_has_figures_and_exercises_to_check(browsing, failures):
    """The figure and exercise checks are vacuous on a book without either."""
    reports = [browsing.report("desktop", f"{doc}.html").data for doc in NOTEBOOK_DOCS]
    figures = sum(len(data.get("images", [])) for data in reports)
    exercises = sum(len(data.get("exercises", [])) for data in reports)
    problems = [] if figures and exercises else [f"{figures} figures, {exercises} exercises"]
    check(failures, "the chapters", problems)


@pytest.mark.parametrize("doc", NOTEBOOK_DOCS)
def test_chapter_offers_binder_and_download(doc, browsing, failures):
    report = browsing.report("desktop", f"{doc}.html")
    check(failures, doc, report.load_problems() + report.data.get("buttons", ["not measured"]))


def test_citation_back_link_leads_to_the_citing_page(browsing, site, failures):
    """A real click on the first 'Cited in' link of the references page lands on the citation."""
    context = browsing.context("desktop")
    page = context.new_page()
    problems = []
    try:
        page.goto(site["url"] + "book/references.html", wait_until="load")
        link = page.locator("div.citation p.cited-in a").first
        if link.count() == 0:
            problems.append("no 'Cited in' link on the references page")
        else:
            href = link.get_attribute("href")
            with page.expect_navigation():
                link.click()
            fragment = urlsplit(href).fragment
            if not page.locator(f'[id="{fragment}"]').count():
                problems.append(f"{page.url} has no element #{fragment}")
    finally:
        page.close()
    check(failures, "references", problems)


@pytest.mark.parametrize("page_path", ["index.html", *EXTRA_PAGES])
def test_other_pages_load_cleanly(page_path, browsing, failures):
    report = browsing.report("desktop", page_path)
    problems = report.load_problems()
    if page_path == "index.html" and not report.data["url"].endswith(f"{TOC['root']}.html"):
        problems.append(f"index.html did not redirect to the landing page: {report.data['url']}")
    check(failures, page_path, problems)


def test_landing_page_title_is_not_repeated(browsing, site, failures):
    context = browsing.context("desktop")
    page = context.new_page()
    try:
        page.goto(site["url"] + f"{TOC['root']}.html", wait_until="load")
        title = page.title()
    finally:
        page.close()
    parts = [part.strip() for part in re.split(r" [—–-] ", title)]
    check(failures, "title", [] if len(parts) == len(set(parts)) else [f"title {title!r}"])


def test_source_code_pages_load_cleanly(site, browsing, failures):
    """The highlighted module sources that the API page's [source] links lead to."""
    pages = sorted(
        p.relative_to(site["html"]).as_posix() for p in site["html"].glob("_modules/**/*.html")
    )
    assert pages, "no module source pages were built"
    problems = [
        f"{page_path}: {problem}"
        for page_path in pages
        for problem in browsing.report("desktop", page_path).load_problems()
    ]
    check(failures, "_modules", problems)
