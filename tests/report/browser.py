"""Open an HTML file in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
with the network blocked: every request other than the file itself is aborted and recorded."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class Visit:
    """What happened when the page was opened."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    counts: dict[str, int] = field(default_factory=dict)  # CSS selector -> elements found
    screenshot: Path | None = None


def chromium_path() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    return CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")


def visit(page_file: Path, selectors: list[str], screenshot: Path | None = None,
          width: int = 1200, height: int = 900, full_page: bool = False) -> Visit:
    """Open `page_file` offline, wait for the charts, count `selectors`, take a screenshot."""
    from playwright.sync_api import sync_playwright

    url = page_file.resolve().as_uri()
    out = Visit()
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=FLAGS,
            viewport={"width": width, "height": height})
        try:
            def route(r):  # type: ignore[no-untyped-def]
                if r.request.url == url:
                    r.continue_()
                else:
                    out.requests.append(r.request.url)
                    r.abort()
            browser.route("**/*", route)
            page = browser.new_page()
            page.on("console", lambda m: out.console_errors.append(m.text)
                    if m.type == "error" else None)
            page.on("pageerror", lambda e: out.page_errors.append(str(e)))
            page.on("request", lambda r: out.requests.append(r.url) if r.url != url else None)
            page.goto(url, wait_until="load")
            page.wait_for_selector(".plot .main-svg", timeout=30_000)
            page.wait_for_timeout(500)
            out.counts = {s: page.locator(s).count() for s in selectors}
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=full_page)
                out.screenshot = screenshot
        finally:
            browser.close()
    out.requests = sorted(set(out.requests))
    return out
