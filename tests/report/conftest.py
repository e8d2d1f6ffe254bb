"""Fixtures of the report tests: small runs written by the CLI, and a headless Chromium
(Debian's /usr/bin/chromium, driven by Playwright) that opens a page with the network blocked:
every request other than the file itself is aborted and recorded."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.paths import BASELINE, BASELINE_2023, CQSIM, SCENARIOS
from tests.support.session import made_once
from tests.support.worked_example import MODULE, cqsim_in_repo, dry_port_network

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def cqsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the command line as a user does."""
    return subprocess.run([*CQSIM, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def rows_after(page: str, heading: str) -> list[list[str]]:
    """The cells of the first table after `heading` (tags stripped), one list per row."""
    body = page.split(heading, 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c))
             for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]


def reseal(folder: Path) -> None:
    """Write `folder`'s manifest anew, as if cqsim had written its files as they are now: for
    the tests that change a run directory to stand for another run (a new column, another
    seed), which the report would otherwise refuse as changed after the run."""
    from sim.staging import write_manifest

    meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    write_manifest(folder, "run.json", {"command": "run", **{
        k: meta[k] for k in ("scenario", "source_file", "seed", "replications", "days")}})


@pytest.fixture(scope="session")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cqsim run` of the baseline, 30 days, 2 replications (report.html by default), made
    once in the session for all xdist workers."""
    def make(root: Path) -> None:
        proc = cqsim("run", str(BASELINE), "--days", "30", "--replications", "2", "--no-map",
                     "--out", str(root / "baseline"))
        assert proc.returncode == 0, proc.stderr

    return made_once(tmp_path_factory, "report-run", make) / "baseline"


@pytest.fixture(scope="session")
def dry_port_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cqsim run --import` of docs/architecture.md's worked example (a dry port, a kind
    added to cqsim, and its table dry_ports.csv) on its small network, 40 days, 2
    replications, with the report that process writes. Made once in the session."""
    def make(root: Path) -> None:
        scenario = dry_port_network(root, inspected_share=0.5, inspection_hours=48.0)
        proc = cqsim_in_repo("run", "--import", MODULE, scenario, "--days", 40,
                             "--replications", 2, "--no-map", "--out", root / "run")
        assert proc.returncode == 0, proc.stderr

    return made_once(tmp_path_factory, "report-dry-port", make) / "run"


@pytest.fixture(scope="session")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cqsim compare` of the calibrated 2023 baseline and more China-Europe trains (a
    scenario built on it by changes) with the placebo (`--placebo`), 30 days, 2 reps. The
    baseline's feedback passes are a year per replication; here, in a copy that extends it
    (and is its own market reference), they are 30 days and shared by the replications (the
    report does not depend on them, and a year's passes made this fixture two minutes of the
    suite in each worker that needs it). Made once in the session for all xdist workers."""
    def make(root: Path) -> None:
        (root / "baseline-2023.yaml").write_text(
            f"name: baseline-2023\nextends: {BASELINE_2023}\n"
            "equilibrium: {days: 30, per_replication: false}\n"
            "demand: {reference_scenario: baseline-2023.yaml}\n", encoding="utf-8")
        alt = root / "china-europe-frequency.yaml"
        shutil.copyfile(SCENARIOS / "china-europe-frequency.yaml", alt)
        shutil.copyfile(SCENARIOS / "placebo.yaml", root / "placebo.yaml")
        proc = cqsim("compare", str(root / "baseline-2023.yaml"), str(alt),
                     "--placebo", str(root / "placebo.yaml"),
                     "--days", "30", "--replications", "2", "--out", str(root / "cmp"))
        assert proc.returncode == 0, proc.stderr

    return made_once(tmp_path_factory, "report-compare", make) / "cmp"


# the header's grid of what was run, and its scenario item (a paragraph: the whole row)
WIDTHS = ("header .meta", "header .meta .wide")


@dataclass
class Visit:
    """What happened when a page was opened."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    counts: dict[str, int] = field(default_factory=dict)  # CSS selector -> elements found
    hovers: list[str] = field(default_factory=list)  # tooltips met over the first map's hubs
    widths: dict[str, float] = field(default_factory=dict)  # selector -> first one's width, px
    screenshot: Path | None = None


def chromium_path() -> str:
    """Debian's Chromium; the test fails (not skips) without it: `make chromium` installs it."""
    found = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    assert found, "Chromium is missing: `make chromium` (apt-get install chromium)"
    return found


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
            def route(r: Route) -> None:
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
            page.wait_for_selector(".plot .main-svg", timeout=60_000)
            page.wait_for_timeout(500)
            out.counts = {s: page.locator(s).count() for s in selectors}
            out.hovers = _hover_hubs(page)
            out.widths = {s: page.locator(s).first.bounding_box()["width"]
                          for s in WIDTHS if page.locator(s).count()}
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=full_page)
                out.screenshot = screenshot
        finally:
            browser.close()
    out.requests = sorted(set(out.requests))
    return out


def _hover_hubs(page: Page, most: int = 8) -> list[str]:
    """Hover the first map's hub markers (its last trace) one by one through Plotly's own
    hover call, and collect the tooltips Plotly shows. Not the mouse: at a hub the ends of
    its links lie under the marker, and which one a pointer picks turned on the browser's
    timing (the comparison report's difference map showed link tooltips when its test ran
    second in a session, hub tooltips when it ran alone; Chromium 156, 2026-12-04)."""
    first = page.locator(".map .js-plotly-plot").first
    first.scroll_into_view_if_needed()
    n = int(first.evaluate("gd => gd.data[gd.data.length - 1].x.length"))
    texts = []
    for k in range(min(most, n)):
        first.evaluate("(gd, k) => Plotly.Fx.hover(gd, [{curveNumber: gd.data.length - 1, "
                       "pointNumber: k}])", k)
        page.wait_for_timeout(150)
        texts += page.locator(".map").first.locator(".hoverlayer .hovertext").all_text_contents()
    return texts


@pytest.fixture(scope="session")
def browser_visit() -> Callable[..., Visit]:
    return visit
