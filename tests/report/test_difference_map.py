"""report.html's difference map draws a change as compare.png does (`sim.mapdata`): blue or
red only where its 95% CI leaves out 0, grey within the noise; its legend and note say so,
paired or Welch as the runs allow. It drew such a change pale blue or red."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from sim import mapdata
from sim.report import deltas as dl
from sim.report import figures as fg
from sim.report.rundir import RunDir

from .conftest import reseal


def _alt(one_run: Path, folder: Path, seed_shift: int = 0) -> tuple[str, str]:
    """A copy of `one_run` in which one busy link and direction gains 50,000 and 52,000 TEU/yr
    in its two replications (a gain; the same gain in both would have no known CI:
    `sim.stats.paired_ci`) and another rises in one replication and falls in the other (its
    mean rises, its CI holds 0): the two, as "link:direction"."""
    shutil.copytree(one_run, folder)
    links = pd.read_parquet(folder / "links.parquet")
    busy = (links.groupby(["link", "direction"])["teu_per_year"].min()
            .sort_values(ascending=False).index[:2])
    (gain, d_gain), (noise, d_noise) = busy
    at_gain = (links["link"] == gain) & (links["direction"] == d_gain)
    at_noise = (links["link"] == noise) & (links["direction"] == d_noise)
    links.loc[at_gain, "teu_per_year"] += [50_000.0 if r == 0 else 52_000.0
                                           for r in links.loc[at_gain, "replication"]]
    links.loc[at_noise, "teu_per_year"] += [30_000.0 if r == 0 else -20_000.0
                                            for r in links.loc[at_noise, "replication"]]
    links.to_parquet(folder / "links.parquet")
    meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    meta.update(seed=meta["seed"] + seed_shift)
    (folder / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    reseal(folder)
    return f"{gain}:{d_gain}", f"{noise}:{d_noise}"


def _difference_map(one_run: Path, alt_dir: Path) -> tuple[dict, pd.DataFrame, bool]:
    base, alt = RunDir.open(one_run), RunDir.open(alt_dir)
    pair = dl.paired(base, alt)
    links = mapdata.link_deltas(dl.link_table(base), dl.link_table(alt), paired=pair)
    return fg.difference_map(base, alt, links, paired=pair), links, pair


def test_a_change_within_the_noise_is_grey_as_on_compare_png(one_run: Path,
                                                             tmp_path: Path) -> None:
    gain, noise = _alt(one_run, tmp_path / "alt")
    fig, links, pair = _difference_map(one_run, tmp_path / "alt")
    assert pair
    by = links.assign(key=links["link"] + ":" + links["direction"]).set_index("key")
    assert by.loc[noise, "delta"] > 0 and by.loc[noise, "delta_ci95"] > by.loc[noise, "delta"]
    assert mapdata.difference_colour(by.loc[gain, "delta"], by.loc[gain, "delta_ci95"]) \
        == mapdata.GAIN
    drawn = [t["line"]["color"] for t in fig["data"]
             if t.get("mode") == "lines" and "line" in t and "hovertemplate" in t]
    assert drawn.count(mapdata.GAIN) == 1 and drawn.count(mapdata.NOISE) == 1
    assert set(drawn) <= {mapdata.GAIN, mapdata.NOISE, "#9a9a9a"}  # the rest: no change
    legend = [(t["name"], t["line"]["color"]) for t in fig["data"]
              if t.get("x") == [None]]
    assert legend == mapdata.difference_legend("baseline")
    notes = " ".join(a["text"] for a in fig["layout"]["annotations"])
    assert mapdata.difference_caption(paired=True) in notes


def test_runs_of_other_seeds_are_said_to_be_welch(one_run: Path, tmp_path: Path) -> None:
    _alt(one_run, tmp_path / "alt", seed_shift=1)
    fig, _, pair = _difference_map(one_run, tmp_path / "alt")
    assert not pair
    notes = " ".join(a["text"] for a in fig["layout"]["annotations"])
    assert mapdata.difference_caption(paired=False) in notes and "paired" not in notes


def test_a_change_whose_interval_is_not_known_is_not_said_to_hold_0(one_run: Path,
                                                                    tmp_path: Path) -> None:
    """A link's change with no CI (one replication) is "not known" in its hover text, not
    "CI includes 0" (`sim.stats.resolved` is None there)."""
    gain, _ = _alt(one_run, tmp_path / "alt")
    base, alt = RunDir.open(one_run), RunDir.open(tmp_path / "alt")
    _, links, pair = _difference_map(one_run, tmp_path / "alt")
    key = links["link"] + ":" + links["direction"]
    unknown = links.assign(delta_ci95=links["delta_ci95"].where(key != gain))
    fig = fg.difference_map(base, alt, unknown, paired=pair)
    hover = json.dumps(fig["data"])
    assert fg.CI_SAID[None] in hover
    fig = fg.difference_map(base, alt, links, paired=pair)
    assert fg.CI_SAID[None] not in json.dumps(fig["data"])
