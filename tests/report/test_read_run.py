"""A run's folder read back in Python (`sim.read_run`, the report's `RunDir`): the tables
the run had in memory, and its map drawn from flows.gpkg; a folder that is not a run's is
refused in one line (a user trial could not load `cqsim run`'s folder back)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import sim  # noqa: E402
from tests.support.netbuilder import line_network  # noqa: E402


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[sim.Results, Path]:
    """A small run (A -- B by a daily train, 20 days, 2 replications) and its folder."""
    root = tmp_path_factory.mktemp("read-run")
    results = sim.run(sim.load_scenario(line_network(root, horizon={"days": 20},
                                                     replications=2)), progress=False)
    sim.write_results(results, root / "out", map_png=False)
    return results, root / "out"


def as_csv_holds(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as a CSV holds it: an empty text cell reads back as NaN (routes' `market`
    outside a market model), CSV keeping no difference between the two."""
    text = frame.select_dtypes(exclude="number").columns
    return frame.reset_index(drop=True).assign(
        **{c: frame[c].replace("", np.nan).to_numpy() for c in text})


def test_a_run_folder_reads_back_as_the_results_it_was(
        written: tuple[sim.Results, Path]) -> None:
    results, folder = written
    run = sim.read_run(folder)
    assert run.names == results.names
    for name in [*results.names, "trade"]:
        pd.testing.assert_frame_equal(run.summary(name), as_csv_holds(results.summary(name)),
                                      check_dtype=False, obj=f"{name}.csv")
        pd.testing.assert_frame_equal(run.by_replication(name),
                                      results.by_replication(name).reset_index(drop=True),
                                      check_dtype=False, obj=f"{name}.parquet")
    assert run.corridors.equals(run.summary("corridors")) and run.trade.equals(
        run.summary("trade"))
    assert "total" in set(run.trade["item"])
    assert (run.meta["name"], run.meta["seed"], run.meta["replications"], run.meta["days"]) == (
        results.name, results.plan.seed, len(results.replications), results.plan.horizon.days)
    assert "run.summary(name)" in repr(run) and "2 replication(s)" in repr(run)
    with pytest.raises(KeyError, match=r"no table 'corridor' \(did you mean 'corridors'\?\); "
                                       r"the tables are corridors, "):
        run.by_replication("corridor")
    with pytest.raises(AttributeError, match=r"no attribute 'line'; the tables are"):
        _ = run.line


def _lines(fig: Figure) -> list[tuple[list[float], list[tuple[float, ...]], int]]:
    """Each line collection of the map's main axes: widths, colours, number of lines."""
    return [(list(c.get_linewidths()), [tuple(rgba) for rgba in c.get_colors()],
             len(c.get_segments()))
            for c in fig.axes[0].collections if isinstance(c, LineCollection)]


def test_flow_map_of_a_run_folder_is_the_map_of_its_results(
        written: tuple[sim.Results, Path]) -> None:
    results, folder = written
    drawn = sim.flow_map(results)
    for source in (folder, str(folder), sim.read_run(folder)):
        fig = sim.flow_map(source)
        assert isinstance(fig, Figure)
        assert fig.axes[0].get_title() == drawn.axes[0].get_title()
        assert _lines(fig) == _lines(drawn) and any(n for *_, n in _lines(fig))
        plt.close(fig)
    plt.close(drawn)
    # the difference map too, of two folders (a comparison's DIR/0-<base>, DIR/1-<alt>)
    fig, ax = plt.subplots()
    sim.maps.draw_difference(folder, sim.read_run(folder), ax)
    assert "change of freight per link" in ax.get_title()
    plt.close(fig)


def test_a_folder_that_is_not_a_run_is_refused_in_one_line(
        written: tuple[sim.Results, Path], tmp_path: Path) -> None:
    _, folder = written
    (tmp_path / "notes.txt").write_text("not a run")
    for bad, said in ((tmp_path, r"run\.json: expected a run directory written by `cqsim "
                                 r"run` \(file missing\)"),
                      (tmp_path / "absent", r"expected a run folder written by `cqsim run` "
                                            r"\(no such folder\)"),
                      (tmp_path / "notes.txt", r"\(it is a file\)")):
        for call in (sim.read_run, sim.flow_map):
            with pytest.raises(sim.InputError, match=said) as caught:
                call(bad)
            assert "\n" not in str(caught.value)
    # a run folder whose file changed since the run: the manifest names it
    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)
    (changed / "corridors.csv").write_text("corridor,teu_per_year\n")
    with pytest.raises(sim.InputError, match=r"corridors\.csv: .*sha256 differs"):
        sim.read_run(changed)
    # a comparison is no read-back Comparison: the error names what reads its folder
    from sim.compare import draw_comparison

    with pytest.raises(TypeError, match=r"sim\.read_run\(DIR/'0-<base>'\)"):
        draw_comparison(str(folder))


@pytest.mark.parametrize(("bad", "said"), [
    (None, r"one run folder \(a str or os\.PathLike\), got NoneType$"),
    (123, r"got int$"),
    (["out/run"], r"got list; for several folders call it once each"),
])
def test_read_run_of_no_path_says_what_it_takes(bad: object, said: str) -> None:
    """pathlib's TypeError came from deep inside it (fuzz2 L8)."""
    with pytest.raises(TypeError, match=said):
        sim.read_run(bad)  # type: ignore[arg-type]


def test_a_measure_annualises_a_horizon_total_over_its_statistics_period(tmp_path: Path) -> None:
    """A run written before the unit convention keeps horizon totals: per year is 365 over
    the days after warm-up, and each CI is scaled as its value (tonnes to Mt, totals to per
    year); no report test read a warmed-up or scaled column."""
    from sim.report import rundir as rd

    (tmp_path / "run.json").write_text(json.dumps(
        {"days": 120, "warmup_days": 10, "seed": 1, "replications": 1}), encoding="utf-8")
    run = rd.RunDir(tmp_path)
    assert run.per_year == pytest.approx(365 / 110)           # statistics period 120 - 10
    legacy = pd.DataFrame({"teu": [1_100.0], "teu_ci95": [110.0]})
    value, ci = rd.LINE_TEU.values(legacy, run.per_year)
    # 1,100 TEU over 110 days: 1,100 x 365 / 110 = 3,650 TEU/yr, its CI 110 x 365 / 110 = 365
    assert (value[0], ci[0]) == (pytest.approx(3_650.0), pytest.approx(365.0))
    lock = pd.DataFrame({"total_t_per_year": [2.5e6], "total_t_per_year_ci95": [4e5]})
    value, ci = rd.LOCK_TONNES.values(lock, run.per_year)
    assert (value[0], ci[0]) == (pytest.approx(2.5), pytest.approx(0.4))   # Mt/yr, t / 1e6


def test_a_run_with_a_warm_up_is_annualised_over_the_days_after_it(tmp_path: Path) -> None:
    """20 days with a 5-day warm-up measure 15: run.json keeps the warm-up, the folder's
    figures per year are over 365 / 15, and the map says so, drawn from the run in memory
    or from its folder."""
    results = sim.run(sim.load_scenario(line_network(
        tmp_path, horizon={"days": 20, "warmup_days": 5}, replications=1)), progress=False)
    sim.write_results(results, tmp_path / "out", map_png=False)
    run = sim.read_run(tmp_path / "out")
    assert (run.days, run.warmup_days) == (20.0, 5.0)
    assert run.per_year == pytest.approx(365 / 15)
    for drawn in (results, run):
        fig = sim.flow_map(drawn)
        assert "(annualised from days 5-20, mean of 1 replication(s))" in " ".join(
            fig.axes[0].get_title().split())
        plt.close(fig)


def test_flows_gpkg_gives_each_link_both_ways_and_the_busier_way_s_utilization(
        written: tuple[sim.Results, Path]) -> None:
    """A link of flows.gpkg: its TEU the sum of its two ways, each way's TEU as links.csv
    has it, and its utilization the busier way's (the mean hid a way at 91% behind a link
    at 45%). The small run carries a -> b only: its two ways differ."""
    import geopandas as gpd

    _, folder = written
    layer = gpd.read_file(folder / "flows.gpkg", layer="links").set_index("link")
    ways = pd.read_csv(folder / "links.csv").pivot(index="link", columns="direction")
    for column in ("teu_per_year", "utilization"):
        assert ways[column]["down"].to_numpy() != pytest.approx(ways[column]["up"].to_numpy())
    assert layer["teu_down_per_year"].to_dict() == pytest.approx(
        ways["teu_per_year"]["down"].to_dict())
    assert layer["teu_up_per_year"].to_dict() == pytest.approx(ways["teu_per_year"]["up"].to_dict())
    assert layer["teu_per_year"].to_dict() == pytest.approx(
        ways["teu_per_year"].sum(axis=1).to_dict())
    assert layer["utilization"].to_dict() == pytest.approx(
        ways["utilization"].max(axis=1).to_dict())


def test_the_manifest_records_the_scenario_file_the_run_was_of(
        written: tuple[sim.Results, Path]) -> None:
    from sim.staging import MANIFEST_KEY

    results, folder = written
    about = json.loads((folder / "run.json").read_text(encoding="utf-8"))[MANIFEST_KEY]
    assert about["source_file"] == results.plan.source_file
    assert Path(about["source_file"]).name == "scenario.yaml"
