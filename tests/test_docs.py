"""The website (``make docs``): built with warnings as errors, then read in headless Chromium.

The site is built once, into a temporary folder, by the command ``make docs`` runs, and
served on localhost. A real browser (Debian's ``chromium`` driven through
``chromedriver`` by Selenium) then opens every page and checks that

* every image loaded, and every resource came from the site itself (no CDN: the site
  must render offline, MathJax included);
* every internal link points to a page that exists, and every ``#fragment`` to an
  element of that page;
* equations are typeset: each maths element holds MathJax's output, and no raw ``$$``
  or ``\\(`` is left in the text a reader sees;
* the browser logged no error.

It saves screenshots of three pages into ``docs/_build/screenshots/``. Without Chromium
the browser tests are skipped, except in CI (``CI`` set), where they fail: ``.ci/run``
installs it.
"""

from __future__ import annotations

import functools
import html
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCREENSHOTS = DOCS / "_build" / "screenshots"
pytestmark = pytest.mark.docs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SHOTS = {
    "index.html": "landing.png",
    "notebooks/01_determinantal_point_processes.html": "notebook-01.png",
    "api.html": "api.png",
}


def sphinx_command(out: Path, doctrees: Path) -> list[str]:
    """What ``make docs`` runs (the Makefile passes the same flags)."""
    return [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
            "-d", str(doctrees), str(DOCS), str(out)]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        sphinx_command(tmp / "html", tmp / "doctrees"), capture_output=True, text=True
    )
    assert result.returncode == 0, f"the site does not build:\n{result.stderr[-4000:]}"
    return tmp / "html"


def pages(site: Path) -> list[str]:
    """Every page of the site (``_static/`` holds the theme's template fragments, not pages)."""
    found = (p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    return sorted(p for p in found if not p.startswith("_static/"))


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def anchors(path: Path) -> frozenset[str]:
    parser = _Anchors()
    parser.feed(path.read_text(errors="replace"))
    return frozenset(parser.ids)


def test_the_site_has_every_notebook_handout_and_module(site):
    built = set(pages(site))
    for notebook in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        assert f"notebooks/{notebook.stem}.html" in built
    masters = [p for p in (ROOT / "assignments").glob("a*_*.ipynb") if re.match(r"a\d+_", p.name)]
    assert len(masters) >= 11
    for master in sorted(masters):
        page = site / "assignments" / f"{master.stem}.html"
        assert page.exists()
        text = page.read_text()
        assert "NotImplementedError" in text, "the student version: solutions replaced by stubs"
        assert "BEGIN SOLUTION" not in text and "# SOLUTION" not in text, "no solutions"
    api = (site / "api.html").read_text()
    for module in ("divnet_nb.core.kernel", "divnet_nb.pruning.registry", "divnet_nb.report"):
        assert f'id="module-{module}"' in api
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists(), "MathJax is served locally"


def test_no_solution_reaches_the_site(site):
    """The exercises' solutions (assignments/solutions/) and the masters' solutions stay off the site."""
    sys.path.insert(0, str(ROOT / "assignments"))
    from check import solution_lines

    lines = solution_lines()
    assert len(lines) > 100
    for page in pages(site):
        markup = (site / page).read_text(errors="replace")
        text = html.unescape(re.sub(r"<[^>]+>", "", markup))  # code as a reader sees it
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{page} shows solution lines {leaked[:3]}"


@pytest.fixture(scope="module")
def browser(site):
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("CI needs Chromium: apt-get install chromium chromium-driver (.ci/run)")
        pytest.skip(
            "no chromium/chromedriver here (Debian: apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                 f"--user-data-dir={site.parent / 'chromium-profile'}"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield driver, base
    finally:
        driver.quit()
        server.shutdown()


#: $...$ left in a page's text: maths that no parser turned into a maths element.
RAW_INLINE = re.compile(r"\$[^$\s][^$\n]{0,80}\$")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# After load: wait for MathJax (when the page has it), then report what the page shows.
INSPECT = """
const done = arguments[arguments.length - 1];
const ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
ready.then(() => {
  const math = Array.from(document.querySelectorAll('.math'));
  const shown = document.body.cloneNode(true);
  shown.querySelectorAll('pre, code, script, style, mjx-container, .highlight, .output')
       .forEach(e => e.remove());
  done({
    images: Array.from(document.images).map(i => [i.currentSrc || i.src, i.complete && i.naturalWidth > 0]),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    math: math.length,
    typeset: math.filter(e => e.querySelector('mjx-container')).length,
    resources: performance.getEntriesByType('resource').map(e => e.name),
    text: shown.innerText,
  });
}).catch(e => done({error: String(e)}));
"""


def _file_for(site: Path, url: str, base: str) -> Path | None:
    """The file behind an internal URL (None for an external one)."""
    if not url.startswith(base):
        return None
    path = unquote(urlparse(url).path)
    target = site / path.lstrip("/")
    return target / "index.html" if target.is_dir() else target


def test_every_page_in_a_real_browser(site, browser):
    driver, base = browser
    problems = []
    for page in pages(site):
        driver.get(base + page)
        seen = driver.execute_async_script(INSPECT)
        if "error" in seen:
            problems.append(f"{page}: MathJax failed: {seen['error']}")
            continue
        for src, loaded in seen["images"]:
            if not loaded and not src.startswith("data:"):
                problems.append(f"{page}: image not loaded: {src}")
        for url in seen["resources"]:
            if not url.startswith((base, "data:", "blob:")):
                problems.append(f"{page}: resource from outside the site: {url}")
        for link in seen["links"]:
            address, fragment = urldefrag(link)
            target = _file_for(site, address, base)
            if target is None:
                continue
            if not target.exists():
                problems.append(f"{page}: broken link {link}")
            elif fragment and target.suffix == ".html" and unquote(fragment) not in anchors(target):
                problems.append(f"{page}: link to a missing anchor {link}")
        if seen["typeset"] != seen["math"]:
            problems.append(f"{page}: {seen['math'] - seen['typeset']} of {seen['math']} "
                            "equations not typeset by MathJax")  # fmt: skip
        for raw in ("$$", "\\(", "\\["):
            if raw in seen["text"]:
                problems.append(f"{page}: raw {raw!r} in the text a reader sees")
        inline = RAW_INLINE.search(seen["text"])
        if inline:
            problems.append(f"{page}: raw inline maths {inline.group()!r} in the text")
        for entry in driver.get_log("browser"):
            if entry["level"] == "SEVERE":
                problems.append(f"{page}: browser error: {entry['message'][:200]}")
        if page in SHOTS:
            # On a notebook, show its first displayed equation rather than its imports.
            driver.execute_script(
                "const m = document.querySelector('div.math');"
                "if (m && location.pathname.includes('/notebooks/')) {"
                "  m.scrollIntoView(); window.scrollBy(0, -180); }"
            )
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(SCREENSHOTS / SHOTS[page]))
    assert not problems, "\n".join(problems[:60])
    assert all((SCREENSHOTS / name).stat().st_size > 10_000 for name in SHOTS.values())


def test_the_notebooks_equations_are_typeset(site, browser):
    """A page the series leans on: its maths is there and MathJax typeset all of it."""
    driver, base = browser
    driver.get(base + "notebooks/01_determinantal_point_processes.html")
    seen = driver.execute_async_script(INSPECT)
    assert seen["math"] >= 20, seen["math"]
    assert seen["typeset"] == seen["math"]
