"""The report in a real browser (headless Chromium, network blocked): it draws its map and
charts, logs no error and asks for nothing beyond its own file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SELECTORS = [".map .main-svg", ".map .scatterlayer .trace", ".chart .main-svg",
             ".chart .scatterlayer .trace", "table"]


def _check(page: Path, visit: Callable, shot: Path) -> dict[str, int]:
    v = visit(page, SELECTORS, shot)
    assert v.console_errors == [] and v.page_errors == []
    assert v.requests == [], f"the page asked the network for {v.requests[:5]}"
    assert v.counts[".map .main-svg"] >= 2 and v.counts[".map .scatterlayer .trace"] >= 20
    assert v.counts[".chart .main-svg"] >= 2 and v.counts[".chart .scatterlayer .trace"] >= 1
    assert v.counts["table"] >= 3
    # hovering a hub shows its figures (TEU per year, utilization)
    assert any("handled" in t and "TEU/yr" in t and "utilization" in t for t in v.hovers), \
        v.hovers
    # the scenario's description spans the header's grid, not one narrow column of it
    assert v.widths["header .meta .wide"] > 0.9 * v.widths["header .meta"], v.widths
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 20, "the screenshot is blank"
    # the map, not only the page, is drawn: many distinct grey levels in its area
    assert len(np.unique(pixels[300:900].round(-1))) > 10
    return v.counts


@pytest.mark.slow
def test_run_report_draws_offline(one_run: Path, browser_visit: Callable,
                                  tmp_path: Path) -> None:
    _check(one_run / "report.html", browser_visit, tmp_path / "run.png")


@pytest.mark.slow
def test_comparison_report_draws_offline(comparison: Path, browser_visit: Callable,
                                         tmp_path: Path) -> None:
    counts = _check(comparison / "report.html", browser_visit, tmp_path / "cmp.png")
    assert counts[".map .main-svg"] >= 5  # a difference map besides both runs' maps
