"""The built site as a reader's browser meets it: headless Chromium through Playwright.

Used by the browser tests (tests/test_browser.py) and by `make weight`, which
prints how much each page downloads on a first visit, scrolled from top to
bottom so that every lazy image loads:

    python -m figgen.sitecheck site/          # the folder `mkdocs build` wrote

The browser is Debian's Chromium (`apt-get install chromium`); Playwright's
own browser download is not used. CHROMIUM names another binary.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# A chapter page may download at most this much on a first visit, scrolled to the end.
CHAPTER_BUDGET_BYTES = 1_500_000


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the tests report what matters themselves
        pass


@contextlib.contextmanager
def serve(site: Path):
    """Serve the folder `site` on a free port of 127.0.0.1; yields the base URL (ending in '/')."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def missing_chromium_message() -> str | None:
    """Why Chromium cannot be started, for a person; None when it can."""
    if Path(CHROMIUM).is_file() or shutil.which(CHROMIUM):
        return None
    return (
        f"Chromium is not installed at {CHROMIUM}. Install Debian's package with "
        "`apt-get install chromium` (`make browser` does it), or set CHROMIUM to another Chromium binary."
    )


@contextlib.contextmanager
def chromium():
    """A headless Chromium browser (Playwright's Browser)."""
    from playwright.sync_api import sync_playwright

    problem = missing_chromium_message()
    if problem:
        raise RuntimeError(problem)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def pages_of(site: Path) -> list[str]:
    """Every page of the built site, as a path relative to its root ('' is the home page)."""
    pages = []
    for index in sorted(site.rglob("index.html")):
        relative = index.parent.relative_to(site).as_posix()
        pages.append("" if relative == "." else relative + "/")
    return pages


@dataclass
class Visit:
    """What happened while a page loaded and was scrolled to its end."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    other_hosts: list[str] = field(default_factory=list)
    bytes_loaded: int = 0


SCROLL_TO_END = """async () => {
    const pause = ms => new Promise(done => setTimeout(done, ms));
    for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight / 2) {
        window.scrollTo(0, y);
        await pause(30);
    }
    window.scrollTo(0, document.documentElement.scrollHeight);
    await pause(100);
}"""

BYTES_LOADED = """() => {
    const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
    return entries.reduce((sum, entry) => sum + (entry.encodedBodySize || 0), 0);
}"""


def visit(page, url: str) -> Visit:
    """Load `url` in the Playwright `page`, scroll to the end so lazy images load, and record what went wrong."""
    record = Visit(url)
    host = urlsplit(url).netloc
    page.on("console", lambda message: message.type == "error" and record.console_errors.append(message.text))
    page.on("pageerror", lambda error: record.console_errors.append(str(error)))
    page.on("requestfailed", lambda request: record.failed_requests.append(f"{request.url} ({request.failure})"))
    page.on(
        "response",
        lambda response: response.status >= 400 and record.failed_requests.append(f"{response.url} (HTTP {response.status})"),
    )
    page.on(
        "request",
        lambda request: urlsplit(request.url).scheme in ("http", "https")
        and urlsplit(request.url).netloc != host
        and record.other_hosts.append(request.url),
    )
    page.goto(url, wait_until="load")
    page.evaluate(SCROLL_TO_END)
    page.wait_for_load_state("networkidle")
    record.bytes_loaded = page.evaluate(BYTES_LOADED)
    return record


def weigh(site: Path) -> list[tuple[str, int]]:
    """(page, bytes downloaded on a first visit, scrolled to the end) for every page of `site`."""
    weights = []
    with serve(site) as base, chromium() as browser:
        for path in pages_of(site):
            context = browser.new_context(viewport=DESKTOP)
            page = context.new_page()
            weights.append((path or "(home)", visit(page, base + path).bytes_loaded))
            context.close()
    return weights


def is_chapter(path: str) -> bool:
    return path.startswith("part")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print how much each page of a built site downloads on a first visit.")
    parser.add_argument("site", type=Path, help="the folder `mkdocs build` wrote (e.g. site/)")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"{args.site} has no index.html: build the site first (make site)", file=sys.stderr)
        return 2
    try:
        weights = weigh(args.site)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 2
    over = 0
    print(f"{'page':40} {'first visit':>12}  (chapters may load {CHAPTER_BUDGET_BYTES / 1e6:.1f} MB)")
    for path, size in weights:
        flag = ""
        if is_chapter(path) and size > CHAPTER_BUDGET_BYTES:
            flag, over = "  OVER BUDGET", over + 1
        print(f"{path:40} {size / 1e3:>9.0f} KB{flag}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
