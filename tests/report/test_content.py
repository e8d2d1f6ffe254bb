"""What the report says, read from its HTML and from the run directories (no browser)."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import mapdata
from sim.errors import InputError
from sim.pipeline import prepare
from sim.report import RunDir, write_report
from sim.report import figures as fg
from sim.report import rundir as rd
from sim.report.deltas import PAIRED, WELCH, channel_deltas, not_a_variant
from tests.support.paths import BASELINE

from .conftest import cqsim, reseal
from .conftest import rows_after as _rows


@pytest.mark.slow
def test_run_writes_a_self_contained_report(one_run: Path) -> None:
    page = (one_run / "report.html").read_text(encoding="utf-8")
    meta = json.loads((one_run / "run.json").read_text())
    # header: scenario, horizon, replications, seed, code version, date
    for text in ("<b>scenario:</b> baseline", "<b>horizon:</b> 30 days",
                 "<b>replications:</b> 2", f"<b>seed:</b> {meta['seed']}",
                 f"cqsim {meta['cqsim_version']}", meta["created_utc"]):
        assert text in page
    if meta["git_commit"]:
        assert f"git {meta['git_commit'][:12]}" in page
    assert f"{meta['engine']} engine" in page
    # nothing fetched: no external script, style, image, font or frame in the markup (the
    # inlined library's own text is checked by the browser test, which blocks the network)
    markup = re.sub(r"<script[^>]*>.*?</script>", "<script></script>", page, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert not re.search(r"@import|url\(|@font-face", markup)
    assert "<script src" not in page and page.count("<script") >= 3
    # units: figures per year, with CIs
    for text in ("TEU/yr", "bn CNY/yr", "95% CI", "2025 target", "2023 goods trade"):
        assert text in page
    # the freight balance, per replication as run.json keeps it
    created = sum(meta["created_teu_horizon"]) / len(meta["created_teu_horizon"])
    assert f"<b>Freight balance</b> over the whole horizon (30 days, warm-up included), mean " \
           f"of 2 replication(s): created {created:,.0f} TEU = delivered" in page
    assert "TEU: no box lost." in page
    # the share of 2023 is not read as a check of the model (a planner's audit, 2026-12-05)
    assert "reads near 100% by construction" in page
    # the key figures state the target and the gap to it, with the target's source, and the
    # header says which scenario this is in its own words (trial46, M4)
    trade = pd.read_csv(one_run / "trade.csv").set_index("item")
    total, goal = trade.loc["total", "value"], trade.loc["2025 target", "value"]
    cards = html.unescape(page.split('<div class="cards">', 1)[1].split("<div class='note'>")[0])
    assert f"{total:,.1f} of {goal:,g}" in cards
    assert f"against the 2025 target: {abs(goal - total):,.1f} ± " in cards
    assert ("short" if goal > total else "above") in cards
    assert trade.loc["2025 target", "source"] in cards
    assert "not calibrated: baseline-2023.yaml is the version calibrated" in page
    # what the run's checks found comes first, warned or not (run.json keeps the same)
    assert ("The run's checks found" in page) == bool(meta["warnings"])
    assert page.index("The run's checks") < page.index('<div class="cards">')


@pytest.mark.slow
def test_run_json_records_the_code_version(one_run: Path) -> None:
    meta = json.loads((one_run / "run.json").read_text())
    assert meta["cqsim_version"]
    from sim.native import engine_name

    assert meta["engine"] == engine_name()      # the engine that ran, compiled or plain
    if (Path(__file__).resolve().parents[2] / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", meta["git_commit"])


@pytest.mark.slow
def test_no_report_skips_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = cqsim("run", str(Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"),
                 "--days", "10", "--replications", "1", "--no-map", "--no-report",
                 "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (out / "corridors.csv").is_file() and not (out / "report.html").exists()


@pytest.mark.slow
def test_comparison_deltas_match_compare_csv(comparison: Path) -> None:
    from sim.stats import unsized

    dirs = sorted(p for p in comparison.iterdir() if p.is_dir())
    assert [d.name for d in dirs] == ["0-baseline-2023", "1-china-europe-frequency",
                                      "2-placebo"]
    ours = channel_deltas(RunDir.open(dirs[0]), RunDir.open(dirs[1]))
    theirs = pd.read_csv(comparison / "compare.csv")
    theirs = theirs[theirs["variant"] == "china-europe-frequency"].reset_index(drop=True)
    both = ours.merge(theirs, on=["metric", "scope"], suffixes=("", "_cmp"))
    assert len(both) == len(theirs) and (ours["pairing"] == PAIRED).all()
    pd.testing.assert_series_equal(both["delta"], both["delta_cmp"], check_names=False,
                                   rtol=1e-9)
    pd.testing.assert_series_equal(both["delta_ci95"], both["delta_ci95_cmp"],
                                   check_names=False, rtol=1e-9)
    pd.testing.assert_series_equal(both["replications_to_resolve"],   # int when none is NaN
                                   both["replications_to_resolve_cmp"], check_names=False,
                                   check_dtype=False)
    page = (comparison / "report.html").read_text(encoding="utf-8")
    assert "china-europe-frequency − baseline" in page and PAIRED in page
    # a count, or too few pairs to size one (`unsized`: NaN, "run at least 5" all the same)
    few = pd.Series([unsized(d, h, n) for d, h, n in zip(
        both["delta"], both["delta_ci95"], both["replications"], strict=True)], index=both.index)
    unresolved = both[(both["scope"] == "total") & (both["replications_to_resolve"].notna() | few)]
    assert ("replications that would tell a change" in page) == (len(unresolved) > 0)
    # what the runs' checks found opens the page, before the differences it limits
    warned = [RunDir.open(d).meta["warnings"] for d in dirs]
    assert ("The runs' checks found" in page) == any(warned)
    if any(warned):
        assert page.index("The runs' checks found") < page.index("Differences from the base")


def test_unpaired_runs_get_welch_intervals(comparison: Path, tmp_path: Path) -> None:
    base, alt = (comparison / "0-baseline-2023"), tmp_path / "alt"
    shutil.copytree(comparison / "1-china-europe-frequency", alt)
    meta = json.loads((alt / "run.json").read_text())
    meta["seed"] += 1
    (alt / "run.json").write_text(json.dumps(meta))
    reseal(alt)
    d = channel_deltas(RunDir.open(base), RunDir.open(alt))
    assert (d["pairing"] == WELCH).all() and d["delta_ci95"].notna().any()
    # the charts and cells say Welch, not "paired", as the note above them does (review 50,
    # #12): only the base and this run, unpaired
    page = write_report([base, alt], tmp_path / "welch.html").read_text(encoding="utf-8")
    assert "paired difference" not in page and "of independent runs (Welch)" in page


def test_runs_compare_refuses_to_pair_are_not_reported_as_a_variant(
        one_run: Path, comparison: Path, tmp_path: Path) -> None:
    """A run of baseline.yaml and one of a scenario built on baseline-2023.yaml (which
    recalibrates it) share seed and replications, but `cqsim compare` refuses the pair: the
    report called it "paired by replication (common random numbers)" and marked the
    recalibration's differences resolved (trial46, H3). Now it applies compare's rule: a
    warning saying why, nothing marked resolved; the intervals stay those of
    `compare --allow-unrelated` (paired: the replications share their random numbers)."""
    alt = comparison / "1-china-europe-frequency"
    assert not_a_variant(RunDir.open(one_run), RunDir.open(alt)) is not None
    assert not_a_variant(RunDir.open(comparison / "0-baseline-2023"), RunDir.open(alt)) is None
    out = tmp_path / "mixed.html"
    proc = cqsim("report", str(one_run), str(alt), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "not baseline plus changes" in proc.stderr and "baseline-2023.yaml" in proc.stderr
    page = out.read_text(encoding="utf-8")
    assert "is not baseline plus changes</b>" in page
    assert "passes through baseline-2023.yaml, which also sets" in html.unescape(page)
    assert "class='sig'" not in page


def test_attribution_of_runs_not_a_variant_and_its_base_marks_nothing_resolved(
        comparison: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """"Where the change came from" is judged as the differences above it: of runs that are
    not a variant and its base, no cell is marked resolved (the section coloured 14 cells of
    `compare --allow-unrelated`'s folders green under the page's own warning that none was;
    review 45, H1)."""
    from sim.report import deltas, page

    def section() -> str:
        text = page.render([RunDir.open(comparison / "0-baseline-2023"),
                            RunDir.open(comparison / "1-china-europe-frequency")])
        start = text.index("<h2>Where the change came from</h2>")
        return text[start:text.index("<h2>", start + 1)]

    assert "class='sig'" in section()           # the control: a variant's changes are marked
    monkeypatch.setattr(deltas, "not_a_variant", lambda base, alt: "a file in between")
    judged = section()
    assert "class='sig'" not in judged and "plus changes</b> (a file in between)" in judged
    # against the placebo, the warning names the run that is not a variant: the placebo
    # (it named the variant, quoting the placebo's chain as its; review 46, M1)
    monkeypatch.setattr(deltas, "not_a_variant",
                        lambda base, run: "its chain" if run.name == "placebo" else None)
    text = page.render([RunDir.open(comparison / d) for d in
                        ("0-baseline-2023", "1-china-europe-frequency", "2-placebo")])
    start = text.index("<h2>Where the change came from, against the placebo")
    against = text[start:text.index("<h2>", start + 1)]
    assert "<b>placebo is not baseline-2023 plus changes</b> (its chain)" in against
    assert "china-europe-frequency is not" not in against and "class='sig'" not in against


def test_the_report_s_attribution_says_a_sampled_change_s_ci_is_not_known(
        comparison: Path) -> None:
    """The report's "Where the change came from" showed a gateway's change with no CI bare,
    as if exact, where its other delta tables say "CI not known" (trial66); a part of the
    settle stage without a CI is exact given its one settling, and stays bare."""
    from sim.report import page
    from sim.stats import NOT_KNOWN

    runs = [RunDir.open(comparison / d) for d in ("0-baseline-2023", "1-china-europe-frequency")]
    rd.label_runs(runs)
    nan = float("nan")
    frame = pd.DataFrame([
        {"variant": runs[1].name, "item": "gateway:air", "base_teu_per_year": 17916.0,
         "delta_teu_per_year": -32.0, "delta_teu_per_year_ci95": nan,
         "base_trade_bn_cny_per_year": 102.1, "delta_trade_bn_cny_per_year": -0.186,
         "delta_trade_bn_cny_per_year_ci95": nan},
        {"variant": runs[1].name, "item": "induced by access", "base_teu_per_year": nan,
         "delta_teu_per_year": 12.0, "delta_teu_per_year_ci95": nan,
         "base_trade_bn_cny_per_year": nan, "delta_trade_bn_cny_per_year": 0.25,
         "delta_trade_bn_cny_per_year_ci95": nan}])
    built = page.Page()
    page.attribution_sections(built, runs, frame)
    rows = html.unescape("".join(built.parts)).split("<tr")
    air = next(r for r in rows if ">air<" in r)
    induced = next(r for r in rows if "induced by cheaper access" in r)
    assert f"-32 ({NOT_KNOWN})" in air and f"-0.186 ({NOT_KNOWN})" in air
    assert "+12" in induced and NOT_KNOWN not in induced
    # settled apart (input growth's 0-wide CI says so: rd.settled_apart), the induced part's
    # missing CI is not known either (fix66)
    growth = {**frame.iloc[1].to_dict(), "item": "input growth", "delta_teu_per_year": 0.0,
              "delta_teu_per_year_ci95": 0.0, "delta_trade_bn_cny_per_year": 0.0,
              "delta_trade_bn_cny_per_year_ci95": 0.0}
    built = page.Page()
    page.attribution_sections(built, runs, pd.concat([frame, pd.DataFrame([growth])],
                                                  ignore_index=True))
    rows = html.unescape("".join(built.parts)).split("<tr")
    induced = next(r for r in rows if "induced by cheaper access" in r)
    assert f"+12 ({NOT_KNOWN})" in induced, induced


def test_a_delta_s_percentage_is_of_the_base(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's % change is ALT - BASE over BASE's mean, as compare.csv's delta_pct; no
    other test read the report's own column."""
    from types import SimpleNamespace

    import sim.report.deltas as deltas

    runs = {name: pd.DataFrame({"replication": [0, 1], "metric": "teu_per_year",
                                "scope": "total", "value": v})
            for name, v in (("base", [100.0, 100.0]), ("alt", [110.0, 110.0]))}
    monkeypatch.setattr(deltas, "metrics", lambda run: runs[run.name])
    base, alt = (SimpleNamespace(name=n, seed=1, replications=2) for n in ("base", "alt"))
    row = channel_deltas(base, alt).iloc[0]  # type: ignore[arg-type]
    # delta 110 - 100 = 10 TEU/yr; 100 x 10 / 100 = 10% (of ALT's 110 it would be 9.09%)
    assert (row["delta"], row["pairing"]) == (10.0, PAIRED)
    assert row["delta_pct"] == pytest.approx(10.0)


def test_a_placebo_is_judged_by_the_totals_it_moved_not_a_channel() -> None:
    """The placebo warning reads the total TEU and trade alone: a channel's own interval
    excluding 0 (one of many, one in twenty by chance) is not a bias of the comparison."""
    from sim.report.deltas import placebo_moved

    deltas = pd.DataFrame([
        # variant, metric, scope, delta, delta_ci95
        ("placebo", "teu_per_year", "total", 5.0, 10.0),          # within its CI: unmoved
        ("placebo", "teu_per_year", "west", 50.0, 10.0),          # a channel: not read
        ("placebo", "trade_bn_cny_per_year", "total", -0.04, 0.02),   # moved
        ("placebo", "wait_mean_h", "total", 3.0, 1.0),            # not a placebo KPI
        ("more-trains", "teu_per_year", "total", 900.0, 10.0)],   # another variant
        columns=["variant", "metric", "scope", "delta", "delta_ci95"])
    assert placebo_moved(deltas, "placebo") == [("trade_bn_cny_per_year", -0.04, 0.02)]


def test_unpaired_runs_keep_all_their_own_replications(one_run: Path, tmp_path: Path) -> None:
    """Runs of 2 and 4 replications (other seeds) cannot be paired: each side's mean and
    Welch's interval are of all of its own replications. The channels' and the locks' deltas
    kept only the replication numbers both runs share, so ALT's mean was of 2 of its 4
    (review 41b, 2), while flows and hubs kept all."""
    from sim.report.deltas import metrics

    alt = tmp_path / "alt"
    shutil.copytree(one_run, alt)
    cor = pd.read_parquet(alt / "corridors.parquet")
    more = cor.assign(replication=cor["replication"] + 2)
    numbers = more.select_dtypes("number").columns.drop("replication")
    more[numbers] = more[numbers] * 3          # replications 2 and 3 carry three times as much
    pd.concat([cor, more], ignore_index=True).to_parquet(alt / "corridors.parquet")
    meta = json.loads((alt / "run.json").read_text(encoding="utf-8"))
    meta.update(seed=meta["seed"] + 1, replications=4)
    (alt / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    reseal(alt)
    base_run, alt_run = RunDir.open(one_run), RunDir.open(alt)
    d = channel_deltas(base_run, alt_run).set_index(["metric", "scope"])
    assert (d["pairing"] == WELCH).all()
    own = metrics(alt_run).groupby(["metric", "scope"])["value"]
    assert (own.count() == 4).all()
    row, mean = d.loc[("teu_per_year", "total")], own.mean()[("teu_per_year", "total")]
    assert row["alt"] == pytest.approx(mean)
    assert row["alt"] == pytest.approx(2 * own.apply(lambda v: v.iloc[:2].mean())[
        ("teu_per_year", "total")])           # not the first two replications' mean
    assert row["base"] == pytest.approx(
        metrics(base_run).groupby(["metric", "scope"])["value"].mean()[("teu_per_year",
                                                                        "total")])
    assert np.isfinite(row["delta_ci95"])


def test_new_columns_rows_and_daily_series_appear(one_run: Path, tmp_path: Path) -> None:
    """Tables are data-driven: a new channel row and a new column show up; the congestion
    series are drawn when the run has them; Chinese names show in the hover text."""
    run = tmp_path / "run"
    shutil.copytree(one_run, run)
    cor = pd.read_csv(run / "corridors.csv")
    extra = cor.iloc[[0]].assign(corridor="coastal-shenzhen")
    cor = pd.concat([cor, extra]).assign(reefer_teu_per_year=123.0, reefer_teu_per_year_ci95=4.0)
    cor.to_csv(run / "corridors.csv", index=False)
    days = pd.DataFrame({"lock": "three_gorges_locks", "direction": "down", "day": range(30),
                         "queue_vessels": 5.0, "queue_vessels_ci95": 1.0, "queue_t": 9e4,
                         "queue_t_ci95": 1e4, "wait_mean_h": 30.0, "wait_mean_h_ci95": 3.0})
    days.to_csv(run / "locks_daily.csv", index=False)
    hubs = pd.DataFrame({"hub": "alashankou", "day": range(30), "queue_teu": 400.0,
                         "queue_teu_ci95": 50.0, "yard_teu": 900.0, "yard_teu_ci95": 60.0,
                         "wait_mean_h": 12.0, "wait_mean_h_ci95": 2.0})
    hubs.to_csv(run / "hubs_daily.csv", index=False)
    import geopandas as gpd
    layer = gpd.read_file(run / "flows.gpkg", layer="hubs")
    layer["name_zh"] = layer["hub"].map({"cq_tuanjiecun": "团结村"})
    layer.to_file(run / "flows.gpkg", layer="hubs", driver="GPKG")
    reseal(run)
    page = write_report([run]).read_text(encoding="utf-8")
    assert "coastal-shenzhen" in page and "reefer_teu_per_year" in page
    assert "locks daily" in page and "hubs daily" in page
    assert "vessels waiting (vessels)" in page and "queue (TEU)" in page
    assert "团结村" in page or json.dumps("团结村")[1:-1] in page  # JSON may escape it


def test_a_declared_kpi_column_shows_with_its_label_and_unit(one_run: Path,
                                                            tmp_path: Path) -> None:
    """A corridor KPI declared in sim/kpis.py (or by add_kpi in the process that writes the
    report) was shown by its raw column name, with no label, unit or scale (ext43, finding
    8): it shows as declared, as the terminal table does; another new column keeps its
    name."""
    from sim.kpis import KPI, add_kpi, remove_kpi

    run = tmp_path / "run"
    shutil.copytree(one_run, run)
    cor = pd.read_csv(run / "corridors.csv").assign(
        late_teu_per_year=12_345.0, late_teu_per_year_ci95=678.0,
        reefer_teu_per_year=123.0, reefer_teu_per_year_ci95=4.0)
    cor.to_csv(run / "corridors.csv", index=False)
    reseal(run)
    assert rd.extra_measure("late_teu_per_year").label == "late_teu_per_year"
    add_kpi(KPI(name="late_teu", unit="TEU", per="year", label="TEU over 15 days door to door",
                scale=1e3, shown_as="kTEU", digits=1, of=lambda lots: 0.0))
    try:
        page = write_report([run], tmp_path / "r.html").read_text(encoding="utf-8")
    finally:
        remove_kpi("late_teu")
    header = page.split("<h2>Channels</h2>", 1)[1].split("</thead>", 1)[0]
    assert "TEU over 15 days door to door<small>kTEU/yr</small>" in header, header
    assert "late_teu" not in header
    assert "reefer_teu_per_year<small>TEU/yr</small>" in header     # no KPI: by its name
    first = _rows(page, "<h2>Channels</h2>")[0]
    assert "12.3 ± 0.7" in first and "123.00 ± 4.00" in first, first


def test_report_of_a_missing_dir_is_one_line(tmp_path: Path) -> None:
    """A folder that is not a run's says what it is: absent, a file, or another command's
    results (it said "run.json ... file missing" for each)."""
    proc = cqsim("report", str(tmp_path / "nothing"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("cqsim: error:") and "Traceback" not in proc.stderr
    assert "(no such folder)" in proc.stderr
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.json").write_text(json.dumps({"manifest": {}}))
    (sweep / "0-a").mkdir()
    (sweep / "0-a" / "run.json").write_text("{}")
    proc = cqsim("report", str(sweep), "-o", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "this is the folder of a `cqsim sweep`; report its run " \
        "folders (0-a)" in proc.stderr, proc.stderr


def test_a_run_folder_named_twice_is_one_line_and_no_report(one_run: Path,
                                                            tmp_path: Path) -> None:
    """`cqsim report RUN RUN` compared a run with itself: refused at RUN_DIR, exit 2, one
    line, nothing written."""
    from click.testing import CliRunner

    from sim.cli import main

    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(one_run), str(one_run), "-o", str(out)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "RUN_DIR" in result.stderr and "each run folder once" in result.stderr
    assert not out.exists()


def test_one_run_directory_is_a_list_of_one(one_run: Path, tmp_path: Path) -> None:
    """`write_report("out/run")` read the path's characters as run directories
    ("/run.json: expected a run directory")."""
    def made(path: Path) -> str:   # the minute it was made aside: two writes may straddle one
        return re.sub(r"Report made [\d-]+ [\d:]+ UTC", "Report made (when)",
                      path.read_text(encoding="utf-8"))

    one = made(write_report(str(one_run), tmp_path / "one.html"))
    assert "Report made (when)" in one
    assert one == made(write_report([one_run], tmp_path / "r.html"))


def test_the_channels_total_row_has_the_weighted_means(one_run: Path, tmp_path: Path) -> None:
    """The total row left mean transit and wait blank where the console prints them: they
    are the TEU-weighted means over the channels, per replication, then mean ± CI."""
    from sim.kpis import kpi, total
    from sim.stats import mean_ci

    page = write_report([one_run], tmp_path / "r.html").read_text(encoding="utf-8")
    header = page.split("<h2>Channels</h2>", 1)[1].split("</thead>", 1)[0]
    names = [html.unescape(re.sub(r"<[^>]+>", "", h)) for h in re.findall(
        r"<th[^>]*>(.*?)</th>", header)]
    last = _rows(page, "<h2>Channels</h2>")[-1]
    assert last[0] == "total"
    reps = pd.read_parquet(one_run / "corridors.parquet")
    for key, label in (("transit_mean_h", "mean transit"), ("wait_mean_h", "mean wait")):
        cell = last[next(i for i, n in enumerate(names) if n.startswith(label))]
        per = [total(kpi(key), sub) / 24 for _, sub in reps.groupby("replication")]
        want = mean_ci(np.asarray(per))
        digits = 1 if key == "transit_mean_h" else 2
        assert cell == fg.level(*want, digits), (label, cell)


def test_the_channels_table_shows_the_kpis_as_declared(one_run: Path, tmp_path: Path) -> None:
    """The report kept its own labels, units, scales and digits for the corridor KPIs
    ("throughput (loaded)" where sim/kpis.py says "loaded TEU delivered", "CO2" for "CO2e at
    average factors"): each column is its declaration's label in its report view, TEU per
    year in TEU as the report's other TEU figures, every count saying its unit of time."""
    from sim.kpis import kpis

    page = write_report([one_run], tmp_path / "r.html").read_text(encoding="utf-8")
    header = page.split("<h2>Channels</h2>", 1)[1].split("</thead>", 1)[0]
    names = [html.unescape(re.sub(r"<[^>]+>", "|", h)) for h in re.findall(
        r"<th\b[^>]*>(.*?)</th>", header)]
    assert names == ["corridor", *(f"{k.label}|{k.report_view.unit}|" for k in kpis())]
    for said in ("loaded TEU delivered|TEU/yr|", "CO2e at average factors|kt/yr|",
                 "mean wait|days|", "lots delivered|lots/yr|"):
        assert said in names, names
    assert all(k.report_view.unit.endswith("/yr") for k in kpis() if k.per == "year")
    cor = pd.read_csv(one_run / "corridors.csv")
    first = _rows(page, "<h2>Channels</h2>")[0]
    assert first[0] == cor["corridor"].iloc[0]
    for want, (column, scale, digits) in zip(first[1:], [
            ("teu_per_year", 1.0, 0), ("empty_teu_per_year", 1.0, 0),
            ("trade_bn_cny_per_year", 1.0, 1), ("value_bn_cny_per_year", 1.0, 1),
            ("lots_per_year", 1.0, 0), ("transit_mean_h", 24.0, 1),
            ("transit_p95_h", 24.0, 1), ("teu_created_per_year", 1.0, 0),
            ("transit_open_mean_h", 24.0, 1), ("wait_mean_h", 24.0, 2),
            ("co2_t_per_year", 1e3, 1)], strict=True):
        value, half = cor[column].iloc[0] / scale, cor[f"{column}_ci95"].iloc[0] / scale
        assert want == fg.level(value, half, digits), (column, want)


def test_an_interval_reaching_below_zero_is_cut_at_zero() -> None:
    """The lock table showed the queue left at the end as "35,169 ± 53,804" t over 3
    replications: a figure that cannot be negative, read as perhaps below 0. Such an
    interval is shown cut at 0; a signed figure (a change) and a tight one keep '±'."""
    assert fg.level(35169.0, 53804.0) == "35,169 (0 to 88,973)"
    assert fg.level(0.0, 2.5, 1) == "0.0 (0.0 to 2.5)"
    assert fg.level(10.0, 2.0) == fg.pm(10.0, 2.0) == "10 ± 2"
    assert fg.level(-3.0, 5.0) == fg.pm(-3.0, 5.0)         # not a level: left as it is
    assert fg.level(4.0, float("nan")) == "4"
    assert fg.level(float("nan"), 1.0) == "-"


def test_a_change_without_an_interval_says_its_ci_is_not_known() -> None:
    """A paired change whose pairs all moved it by one amount has no interval: shown
    without one it read as exact."""
    assert fg.change_pm(2.0, float("nan"), 1) == "+2.0 (CI not known)"
    assert fg.change_pm(-2.0, 0.5, 1) == "-2.0 ± 0.5"
    assert fg.change_pm(float("nan"), float("nan"), 1) == "-"


def test_a_change_is_shown_to_the_digits_it_needs() -> None:
    """A resolved change of a utilization read "+0.00 ± 0.00" in green, and a lock wait
    "-0.1 ± 0.0" (trial51): a change shows as many more digits (up to `MORE_DIGITS`) as
    its value and interval need to be seen; one that shows at its own digits keeps them,
    an interval of exactly 0 stays 0, and a level is left as it is."""
    assert fg.change_pm(0.004, 0.002, 2) == "+0.004 ± 0.002"
    assert fg.change_pm(-0.12, 0.03, 1) == "-0.12 ± 0.03"
    assert fg.change_pm(-324.0, 0.0, 0) == "-324 ± 0"
    assert fg.change_pm(5.0, 1.2, 0) == "+5 ± 1"
    assert fg.change_pm(1e-9, 0.0, 2) == f"+{0:.{2 + fg.MORE_DIGITS}f} ± {0:.{2 + fg.MORE_DIGITS}f}"
    assert fg.pm(0.004, 0.002, 2) == "0.00 ± 0.00"          # a level: its own digits


def _pm_reaching_below_zero(cells: list[str]) -> list[str]:
    """The cells reading "v ± h" with h > v >= 0: an interval reaching below 0 not cut."""
    out = []
    for cell in cells:
        found = re.fullmatch(r"([\d,.]+)%? ± ([\d,.]+)%?", cell.strip())
        if found and float(found[2].replace(",", "")) > float(found[1].replace(",", "")):
            out.append(cell)
    return out


def test_every_table_of_levels_cuts_an_interval_below_zero_alike(one_run: Path,
                                                                  tmp_path: Path) -> None:
    """The page says an interval reaching below 0 is shown cut at 0: the Channels table showed
    west's empties as "1,703 (0 to 6,856)", but the Goods trade table the same figure as
    "teu_empty:west | 1,703 ± 5,153" and Markets "Hong Kong import 3.7 ± 16.1". Every
    table of figures that cannot be negative, and the key figures, cut it at 0."""
    run = tmp_path / "run"
    shutil.copytree(one_run, run)
    trade = pd.read_csv(run / "trade.csv")
    at = trade.index[trade["item"] == "channels"][0]
    trade.loc[at, "ci95"] = 2 * trade.loc[at, "value"]    # reaching below 0, for certain
    trade.to_csv(run / "trade.csv", index=False)
    reseal(run)
    page = write_report([run], tmp_path / "r.html").read_text(encoding="utf-8")
    rows = {r[0]: r[1] for r in _rows(page, "<h2>Goods trade</h2>")}
    value = float(trade.loc[at, "value"])
    assert rows["channels"] == f"{value:,.1f} (0.0 to {3 * value:,.1f})"
    markets = [c for r in _rows(page, "by gateway</h3>") for c in r[2:3]]
    cards = re.findall(r'<div class="v">(.*?)</div>', page)
    for cells in (list(rows.values()), markets, cards,
                  [c for r in _rows(page, "<h2>Channels</h2>") for c in r[1:]]):
        assert _pm_reaching_below_zero(cells) == []
    assert any("(0.0 to" in c for c in markets)   # 2 replications: a market's is that wide


def test_gateways_are_keyed_by_gateway_and_flow_class(one_run: Path, tmp_path: Path) -> None:
    """A row per gateway and flow class, grouped by gateway (most trade first, trade before
    the other classes), each with its own figures; no raw column name as a header."""
    page = write_report([one_run], tmp_path / "r.html").read_text(encoding="utf-8")
    gw = pd.read_csv(one_run / "gateways.csv")
    rows = _rows(page, "<h3>Gateways</h3>")
    assert rows[-1][0] == "total"
    keys = [(r[0], r[1]) for r in rows[:-1]]
    assert sorted(keys) == sorted(zip(gw["gateway"], gw["flow_class"], strict=True))
    order = list(dict.fromkeys(k[0] for k in keys))
    assert [g for g, _ in keys] == sorted((g for g, _ in keys), key=order.index)  # grouped
    trade = gw.groupby("gateway")["trade_bn_cny_per_year"].sum()
    assert order[0] == trade.idxmax()
    assert all(keys[[g for g, _ in keys].index(g)][1] == "trade"
               for g in set(gw.loc[gw["flow_class"] == "trade", "gateway"]))
    for r in rows[:-1]:
        want = gw[(gw["gateway"] == r[0]) & (gw["flow_class"] == r[1])].iloc[0]
        assert r[2] == fg.level(want["teu_per_year"], want["teu_per_year_ci95"])
        assert r[3] == fg.level(want["trade_bn_cny_per_year"],
                                want["trade_bn_cny_per_year_ci95"], 1)
        assert r[4] == fg.level(want["value_bn_cny_per_year"],
                                want["value_bn_cny_per_year_ci95"], 1)
    assert ">flow class<" in page
    assert ">empty TEU delivered (repositioned boxes)<small>TEU/yr</small>" in page
    for raw in ("empty_teu_per_year", "value_bn_cny_per_year", ">flow_class<"):
        assert raw not in page


def test_each_gateway_is_said_in_words(one_run: Path, tmp_path: Path) -> None:
    """gateways.csv carries the scenario's label of each gateway, and the report lists the
    gateways with their labels under the table, in the table's order."""
    section = prepare(BASELINE).market
    assert section is not None
    gw = pd.read_csv(one_run / "gateways.csv", keep_default_na=False)
    labels = dict(zip(gw["gateway"], gw["label"], strict=True))
    assert labels and all(labels[g] == section.section.gateways[g].label for g in labels)
    page = write_report([one_run], tmp_path / "r.html").read_text(encoding="utf-8")
    listed = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page.split("<h3>Gateways</h3>")[1])
    assert [(g, html.unescape(lab)) for g, lab in listed] == [
        (g, labels[g]) for g in dict.fromkeys(r[0] for r in _rows(page, "<h3>Gateways</h3>")[:-1])]


def test_the_report_s_maps_and_markets_say_a_part_year_s_period(one_run: Path) -> None:
    """map.png's title and the trade chart said what a part year's figures are annualised
    from; the report's own maps and its chart of the markets did not, nor did such a figure
    saved from the page (trial66): they say it as `sim.trade.part_year` gives it."""
    from sim.trade import part_year

    run = RunDir.open(one_run)
    period = part_year([(run, run.seasonal_factor)])
    assert period.startswith("annualised from days")     # 30 days: part of a year
    overview, _ = fg.flow_maps(run)
    markets = fg.market_figure(run)
    assert markets is not None
    differences = fg.difference_map(run, run, mapdata.link_deltas(
        run.by_replication("links").rename(columns={"teu_per_year": "value"})[
            ["replication", "link", "direction", "value"]],
        run.by_replication("links").rename(columns={"teu_per_year": "value"})[
            ["replication", "link", "direction", "value"]], paired=True), paired=True)
    for fig in (overview, markets, differences):
        title = html.unescape(fig["layout"]["title"]["text"].replace("<br>", " "))
        assert period in title, title


def test_the_report_s_delta_and_attribution_charts_say_a_part_year_s_period(
        one_run: Path) -> None:
    """The Δ bar charts ("Δ loaded TEU delivered, TEU/yr: paired difference") and the
    attribution chart ("change of Chongqing's trade per gateway") said no period: the
    "Part of a year" note above them is lost when a chart is saved from the page (trial66).
    A count per year says it as `sim.trade.part_year` gives it; a time does not."""
    from sim import kpis
    from sim.trade import part_year

    run = RunDir.open(one_run)
    period = part_year([(run, run.seasonal_factor)])
    assert period.startswith("annualised from days")     # 30 days: part of a year
    deltas = channel_deltas(run, run).assign(variant="again")
    rows = pd.DataFrame({"item": ["gateway:east", "total"], "gateway": ["east", "total"],
                         "delta_trade_bn_cny_per_year": [1.0, 1.0],
                         "delta_trade_bn_cny_per_year_ci95": [0.5, 0.5],
                         "delta_teu_per_year": [10.0, 10.0],
                         "delta_teu_per_year_ci95": [5.0, 5.0]})
    attributed = fg.attribution_figure(run, run, rows)
    assert attributed is not None
    for fig in (fg.delta_figure(deltas, kpis.kpi("teu"), [True], [run, run]),
                fg.delta_figure(deltas, kpis.kpi("trade_bn_cny"), [True], [run, run]),
                attributed):
        title = html.unescape(fig["layout"]["title"]["text"])
        assert period in title, title
    hours = fg.delta_figure(deltas, kpis.kpi("transit_open_mean_h"), [True], [run, run])
    assert "annualised" not in hours["layout"]["title"]["text"]


def test_markets_section_shows_which_gateways_carry_each_market(one_run: Path,
                                                                tmp_path: Path) -> None:
    markets = pd.read_csv(one_run / "markets.csv")
    fig = fg.market_figure(RunDir.open(one_run))
    assert fig is not None
    drawn: dict[tuple[str, str, str], float] = {}
    for t in fig["data"]:
        direction = t["meta"].split(" via ")[0]
        for y, x in zip(t["y"], t["x"], strict=True):
            drawn[(y, direction, t["name"])] = x
    carried = markets[markets["trade_bn_cny_per_year"] > 0]
    assert len(drawn) == len(carried)
    for r in carried.itertuples():   # a market's bars are named by its label, as its row
        assert drawn[(r.label, r.direction, r.gateway)] == pytest.approx(
            r.trade_bn_cny_per_year)
    colours = {t["name"]: t["marker"]["color"] for t in fig["data"]}
    assert colours["east"] == mapdata.corridor_colour("east")
    assert len(set(colours.values())) == len(colours)
    assert "bn CNY/yr" in fig["layout"]["xaxis"]["title"]["text"]
    page = write_report([one_run], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Markets</h2>" in page
    rows = _rows(page, "by gateway</h3>")
    top = markets.groupby("market")["trade_bn_cny_per_year"].sum().idxmax()
    # each market in words (the scenario's market.labels, in markets.csv), the id beside it
    section = prepare(BASELINE).market
    assert section is not None and section.section.labels
    labels = dict(zip(markets["market"], markets["label"], strict=True))
    assert labels == {m: section.section.labels[m] for m in labels}
    assert {r[0] for r in rows} == {f"{labels[m]} {m}" for m in labels}
    assert rows[0][0] == f"{labels[top]} {top}" and len(rows) == len(
        markets[["market", "direction"]].drop_duplicates())
    first = markets[(markets["market"] == top) & (markets["direction"] == rows[0][1])]
    assert rows[0][2].startswith(fg.fmt(first["trade_bn_cny_per_year"].sum(), 1) + " ± ")
    # every market of the baseline has more than one gateway since Hong Kong, Taiwan and the
    # Gulf were given sea and air ends (review finding 1), so no market is said captive
    assert markets.groupby("market")["gateway"].nunique().min() > 1
    assert "Reached by one gateway only" not in page


def test_a_market_reached_by_one_gateway_only_is_said(one_run: Path, tmp_path: Path) -> None:
    """A market whose trade goes through one gateway only has shares that are inputs, not
    choices (Hong Kong and Taiwan, through Shenzhen, until 2026-12-03): the page says so,
    naming it and its gateway."""
    run = tmp_path / "run"
    shutil.copytree(one_run, run)
    def only_shenzhen_for_hong_kong(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["market"] != "hong_kong") | (frame["gateway"] == "coastal_shenzhen")]

    only_shenzhen_for_hong_kong(pd.read_csv(run / "markets.csv")).to_csv(
        run / "markets.csv", index=False)
    only_shenzhen_for_hong_kong(pd.read_parquet(run / "markets.parquet")).to_parquet(
        run / "markets.parquet", index=False)
    reseal(run)
    page = write_report([run]).read_text(encoding="utf-8")
    note = page.split("Reached by one gateway only: ")[1].split("</div>")[0]
    assert note.split(". Their")[0] == "Hong Kong (coastal_shenzhen)"


def test_the_trade_chart_adds_up_to_the_total(one_run: Path) -> None:
    """The stacked parts of the goods-trade chart are every part of trade.csv's total: the
    channels and the trade a market table declares not simulated (it was left out, so the
    bars stopped 8 bn CNY/yr short of the total marked above them), not a zero input."""
    run = RunDir.open(one_run)
    trade = pd.read_csv(one_run / "trade.csv").set_index("item")["value"]
    fig = fg.trade_figure([run], {})
    assert fig is not None
    bars = {t["name"]: t["y"][0] for t in fig["data"] if t["type"] == "bar"}
    assert sum(bars.values()) == pytest.approx(trade["total"])
    assert trade["not_simulated:bulk"] > 0
    assert bars["not simulated: bulk"] == pytest.approx(trade["not_simulated:bulk"])
    assert "other trade (input)" not in bars  # no residual term under the market model


def test_confidence_bands_of_queues_and_flows_stop_at_zero(one_run: Path) -> None:
    """Two replications give wide normal intervals; no queue, wait or flow is negative, so
    no band is drawn below 0 (they reached -50 vessels at the locks)."""
    run = RunDir.open(one_run)
    figures = [fg.daily_figure(run, "locks_daily", "lock", rd.LOCK_DAILY),
               fg.daily_figure(run, "hubs_daily", "hub", rd.HUB_DAILY), fg.weekly_figure([run])]
    ys = [y for fig in figures if fig for t in fig["data"] for y in t.get("y", [])
          if y is not None]
    assert ys and min(ys) >= 0.0


def test_a_run_without_market_tables_still_renders(one_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(one_run, run)
    for name in ("markets", "gateways"):
        for ext in ("csv", "parquet"):
            (run / f"{name}.{ext}").unlink()
    reseal(run)
    page = write_report([run]).read_text(encoding="utf-8")
    assert "<h2>Channels</h2>" in page and "<h2>Goods trade</h2>" in page
    assert "<h2>Markets</h2>" not in page and "<h3>Gateways</h3>" not in page
    assert fg.market_figure(RunDir.open(run)) is None


def test_comparison_shows_where_the_change_came_from(comparison: Path, tmp_path: Path) -> None:
    """The report of `cqsim compare` shows attribution.csv: each gateway's change of trade
    and TEU with its CI, then the total and its parts; `cqsim report` of the run directories
    shows it again, but not with another base first nor for copies away from the file."""
    heading = "<h2>Where the change came from</h2>"
    page = (comparison / "report.html").read_text(encoding="utf-8")
    att = pd.read_csv(comparison / "attribution.csv")
    assert set(att["variant"]) == {"china-europe-frequency", "placebo"}
    att = att[att["variant"] == "china-europe-frequency"]    # the first table after heading
    # 30 days: the chart's title names the part year (`fg._part_year`), wrapped to its width
    assert heading in page and ("per gateway, bn CNY\\u002fyr (paired 95% CI; "
                                "annualised from days") in page
    rows = {r[0]: r for r in _rows(page, heading)}
    labels = rd.market_labels(RunDir.open(sorted(p for p in comparison.iterdir()
                                                 if p.is_dir())[0]))
    assert labels["eu"] == "European Union (27)"   # the induced trade per market by its label
    assert "of the induced, European Union (27)" in rows
    from sim.stats import NOT_KNOWN

    # a change sampled over the replications with no CI (differences of one amount over the
    # 2 pairs: with the China-Europe trains run by load one gateway's do) is not known, and
    # says so; the settled parts of one shared settling (input growth, the induced and its
    # markets: no CI here, as `input growth` shows) are exact and do not
    shared = att.loc[att["item"] == "input growth", "delta_trade_bn_cny_per_year_ci95"]
    assert shared.isna().all()

    def cell(item: str, delta: float, half: float, digits: int = 0) -> str:
        text = fg.pm(delta, half, digits, sign=True)
        settled = item in ("input growth", "induced by access") or item.startswith("induced:")
        known = np.isfinite(half) or settled or not np.isfinite(delta)   # "-": no change
        return text if known else f"{text} ({NOT_KNOWN})"

    for r in att.itertuples():
        gateway = str(r.item).removeprefix("gateway:")
        shown = rows[gateway if gateway != r.item else rd.attribution_label(str(r.item), labels)]
        assert shown[1] == cell(str(r.item), r.delta_trade_bn_cny_per_year,
                                r.delta_trade_bn_cny_per_year_ci95, rd.ATTR_TRADE.digits)
        assert shown[3] == cell(str(r.item), r.delta_teu_per_year, r.delta_teu_per_year_ci95)
    assert len(rows) == len(att)
    dirs = sorted(p for p in comparison.iterdir() if p.is_dir())
    again = write_report(dirs, tmp_path / "again.html").read_text(encoding="utf-8")
    assert heading in again
    # another base first: the China-Europe run (the placebo's runs may equal the base's to
    # the digit over a short horizon, and then its figures are the base's)
    assert heading not in write_report([dirs[1], dirs[0], dirs[2]],
                                       tmp_path / "swapped.html").read_text(encoding="utf-8")
    away = [shutil.copytree(d, tmp_path / d.name) for d in dirs]
    assert heading not in write_report(away, tmp_path / "away.html").read_text(encoding="utf-8")
    # --placebo: the same, each variant paired with the placebo, which has no rows of its own
    # the placebo named once, as a name ("against the placebo placebo" read as a slip)
    heading_p = "<h2>Where the change came from, against the placebo run \u201cplacebo\u201d</h2>"
    assert heading_p in page
    placebo = pd.read_csv(comparison / "placebo_attribution.csv")
    assert set(placebo["variant"]) == {"china-europe-frequency"}
    rows_p = {r[0]: r for r in _rows(page, heading_p)}
    assert len(rows_p) == len(placebo)
    for r in placebo.itertuples():
        gateway = str(r.item).removeprefix("gateway:")
        shown = rows_p[gateway if gateway != r.item
                       else rd.attribution_label(str(r.item), labels)]
        assert shown[1] == cell(str(r.item), r.delta_trade_bn_cny_per_year,
                                r.delta_trade_bn_cny_per_year_ci95, rd.ATTR_TRADE.digits)
    # the placebo's own total: said at its section exactly when its interval excludes 0, as
    # the console's warning (sim.report.deltas.placebo_moved on compare.csv's rows)
    import sim.report.deltas

    said = "The placebo itself moved the total"
    moved = sim.report.deltas.placebo_moved(pd.read_csv(comparison / "compare.csv"), "placebo")
    assert (said in page) == bool(moved)
    forced = [("trade_bn_cny_per_year", -0.036, 0.024)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sim.report.deltas, "placebo_moved", lambda deltas, name: forced)
        moved_page = write_report(dirs, tmp_path / "moved.html").read_text(encoding="utf-8")
    assert f"{said} (-0.036 ± 0.024 bn CNY/yr of channel trade)" in moved_page
    # a damaged attribution.csv beside them is one error naming it, not a traceback
    for damage in (b"\x00\xff\xfe binary", b"a,b\n1,2\n"):
        (tmp_path / "attribution.csv").write_bytes(damage)
        with pytest.raises(InputError, match="attribution.csv"):
            write_report(away, tmp_path / "damaged.html")
    # a comparison whose compare.json is gone or broken: nothing vouches for attribution.csv
    # (an edited figure was shown as the comparison's; probe, 2026-12-04)
    copy = shutil.copytree(comparison, tmp_path / "copy")
    for broken in ("{", None):
        if broken is None:
            (copy / "compare.json").unlink()
        else:
            (copy / "compare.json").write_text(broken)
        with pytest.raises(InputError, match=r"compare\.json: manifest: expected the manifest"):
            write_report(sorted(p for p in copy.iterdir() if p.is_dir()),
                         tmp_path / "unvouched.html")


def test_an_attribution_csv_edited_after_the_comparison_is_refused(comparison: Path,
                                                                   tmp_path: Path) -> None:
    """compare.json's manifest vouches for attribution.csv: the file edited since (one byte
    more), its manifest intact, is refused naming it, not shown as the comparison's."""
    edited = shutil.copytree(comparison, tmp_path / "edited")
    table = edited / "attribution.csv"
    table.write_text(table.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"attribution\.csv: manifest: expected the file as "
                                         r"cqsim wrote it"):
        write_report(sorted(p for p in edited.iterdir() if p.is_dir()), tmp_path / "r.html")


def _as_period(src: Path, dst: Path, days: float, warmup: float, factor: float | None) -> Path:
    """A copy of run folder `src` recorded as run over another statistics period (run.json's
    days, warm-up and seasonal factor; the manifest written anew): what the report reads of
    it."""
    shutil.copytree(src, dst)
    meta = json.loads((dst / "run.json").read_text(encoding="utf-8"))
    meta.update(days=days, warmup_days=warmup, seasonal_factor=factor)
    (dst / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    reseal(dst)
    return dst


def test_a_part_year_report_says_the_season_it_carries(one_run: Path, tmp_path: Path) -> None:
    """report.html's key figures carry the console's seasonal-factor note when the statistics
    period is part of a year (a report of days 30-120 showed 92.5% of 2023 beside "near 100%
    by construction" without a word on the season: audit, 2026-12-05); a year has none."""
    from sim.trade import season_note
    from sim.units import period_season

    meta = json.loads((one_run / "run.json").read_text(encoding="utf-8"))
    plan = prepare(BASELINE, days=30)           # as the fixture ran it
    assert meta["seasonal_factor"] == pytest.approx(
        period_season(plan.seasonality, plan.horizon), abs=1e-6)
    shown = "<b>Season.</b>"
    for days, says in ((120, True), (395, False)):
        horizon = prepare(BASELINE, days=days).horizon
        factor = period_season(plan.seasonality, horizon)
        assert (abs(factor - 1) > 0.005) == says     # days 30-120: 0.93; a whole year: 1
        run = _as_period(one_run, tmp_path / f"d{days}", days, horizon.warmup_days, factor)
        page = write_report([run], tmp_path / f"d{days}.html").read_text(encoding="utf-8")
        assert (shown in page) == says
        if says:
            note = season_note(factor, horizon)
            assert note is not None and html.escape(note[1:]) in page
            assert f"days {horizon.warmup_days:g}-{days:g}" in note
            # beside the note on the share of 2023, before the rest of the page
            assert page.index("by construction") < page.index(shown) < \
                page.index("<b>Freight balance</b>")


def test_runs_of_other_periods_and_one_name_are_told_apart(one_run: Path,
                                                           tmp_path: Path) -> None:
    """`cqsim report A B` of runs with other statistics periods warns, naming each period
    (the differences carry the season and start-up); runs of one scenario are labelled by
    name and folder, while the tables stay keyed by the scenario's name (audit, 2026-12-05:
    "baseline − baseline", a seasonal difference shown green without a word)."""
    a = _as_period(one_run, tmp_path / "a", 120, 30, 0.929)
    b = _as_period(one_run, tmp_path / "b", 90, 30, 0.895)
    page = write_report([a, b], tmp_path / "ab.html").read_text(encoding="utf-8")
    warn = re.search(r"<div class='warn'><b>The runs' statistics periods differ</b>.*?</div>",
                     page, flags=re.S)
    assert warn is not None
    assert f"baseline ({a}): days 30-120, mean seasonal factor 0.929" in warn.group(0)
    assert f"baseline ({b}): days 30-90, mean seasonal factor 0.895" in warn.group(0)
    assert "the season and the start-up" in warn.group(0)
    assert page.index(warn.group(0)) < page.index(f"<h3>baseline ({b}) − baseline ({a})</h3>")
    assert f"Run: baseline ({a})" in page and "baseline − baseline" not in page
    assert channel_deltas(RunDir.open(a), RunDir.open(b))["variant"].eq("baseline").all()
    # one period: no warning; and runs of different names keep their names alone
    same = write_report([a, _as_period(one_run, tmp_path / "c", 120, 30, 0.929)],
                        tmp_path / "ac.html").read_text(encoding="utf-8")
    assert "statistics periods differ" not in same and "<h3>baseline (" in same
    meta = json.loads((tmp_path / "c" / "run.json").read_text(encoding="utf-8"))
    meta["scenario"] = meta["name"] = "other"    # a run of another scenario, by its name
    (tmp_path / "c" / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    reseal(tmp_path / "c")
    named = write_report([a, tmp_path / "c"], tmp_path / "ac2.html").read_text(encoding="utf-8")
    assert "<h3>other − baseline</h3>" in named


def test_published_figures_show_no_interval_in_the_trade_table(one_run: Path) -> None:
    """The 2023 figure and the 2025 target are published constants: no "713.7 ± 0.0" as if
    simulated (audit, 2026-12-05); the simulated total keeps its interval. trade.csv writes
    them with no ci95 (it wrote 0.0, and the report picked the rows by name: review of the
    merged branches, 11), and the report shows what it reads."""
    page = (one_run / "report.html").read_text(encoding="utf-8")
    trade = pd.read_csv(one_run / "trade.csv").set_index("item")
    rows = {r[0]: r[1] for r in _rows(page, "<h2>Goods trade</h2>")}
    constants = ["2023 goods trade", "2025 target", "other_trade",
                 *(i for i in trade.index if i.startswith("not_simulated:"))]
    for item in constants:
        assert np.isnan(trade.loc[item, "ci95"]), item
        assert rows[item] == fg.fmt(float(trade.loc[item, "value"]), 1)
    simulated = trade.drop(index=[*constants, "p_meet_target", "p_meet_target_normal"])
    assert simulated["ci95"].notna().all()    # every mean over replications has its interval
    assert rows["total"] == fg.pm(float(trade.loc["total", "value"]),
                                  float(trade.loc["total", "ci95"]), 1)
    assert "±" in rows["total"]


def test_the_goods_trade_table_names_each_figure_s_unit_and_source(one_run: Path) -> None:
    """Each row of the Goods trade table says its unit and where it comes from, as
    trade.csv does: a published figure names its source beside its value."""
    page = (one_run / "report.html").read_text(encoding="utf-8")
    trade = pd.read_csv(one_run / "trade.csv", dtype=str, keep_default_na=False)
    rows = {r[0]: (r[2], r[3]) for r in _rows(page, "<h2>Goods trade</h2>")}
    for item, unit, source in zip(trade["item"], trade["unit"], trade["source"], strict=True):
        assert rows[item][0] == unit, item
        if source:
            assert rows[item][1] == source, item
    for item in ("2023 goods trade", "2025 target"):
        source = trade.set_index("item").loc[item, "source"]
        assert source and rows[item] == ("bn CNY/yr", source), item


def test_hubs_table_shows_boxes_gone_elsewhere_only_where_a_hub_shut(one_run: Path,
                                                                     tmp_path: Path) -> None:
    """The column of other users' boxes gone elsewhere (they would have waited too long)
    shows, with a word on it, only when some hub lost them: zeros everywhere would be noise."""
    before = (one_run / "report.html").read_text(encoding="utf-8")
    assert "background gone elsewhere" not in before
    run = tmp_path / "run"
    shutil.copytree(one_run, run)
    hubs = pd.read_csv(run / "hubs.csv")
    assert (hubs["background_diverted_teu_per_year"] == 0).all()
    hubs.loc[hubs["hub"] == "qinzhou", "background_diverted_teu_per_year"] = 1_234_567.0
    hubs.to_csv(run / "hubs.csv", index=False)
    reseal(run)
    page = write_report([run]).read_text(encoding="utf-8")
    assert "background gone elsewhere (wait too long)" in page
    assert "their boxes went elsewhere" in page and "1,234,567" in page


def test_charts_name_hubs_and_markets_as_their_tables_do(one_run: Path,
                                                         tmp_path: Path) -> None:
    """The hubs' daily chart named hubs by id (`cq_guoyuan`) and the markets chart named
    markets by id (`asean_mainland`) where their tables name them (analyst's audit, D10)."""
    run = RunDir.open(one_run)
    page = write_report([one_run], tmp_path / "r.html").read_text(encoding="utf-8")
    places = run.hub_places()
    assert places["cq_guoyuan"].startswith("Guoyuan")
    hubs = fg.daily_figure(run, "hubs_daily", "hub", rd.HUB_DAILY, places)
    assert hubs is not None
    shown = {str(t["name"]) for t in hubs["data"] if "name" in t}
    assert shown and shown <= set(places.values()), shown - set(places.values())
    for name in shown:   # the page draws the chart with the names of its hubs table
        assert f'"name":{json.dumps(name)}' in page and html.escape(name) in page
    labels = rd.market_labels(run)
    markets = fg.market_figure(run)
    assert markets is not None
    axis = {str(y) for t in markets["data"] for y in t["y"]}
    assert axis and axis <= set(labels.values()) and not axis & set(labels), axis


def test_a_column_without_a_declaration_keeps_what_it_counts_and_its_unit_of_time() -> None:
    """An added kind's table read without its declaration showed `moves_teu_per_year` in
    '/yr' and `moves_teu_horizon` in no unit (final read): the names the KPIs' table knows
    come first, and a count over the horizon says so."""
    from sim.report.rundir import unit_from_name

    assert unit_from_name("moves_teu_per_year") == "TEU/yr"
    assert unit_from_name("moves_teu_horizon") == "TEU over the horizon"
    assert unit_from_name("jobs_horizon") == "over the horizon"
    assert unit_from_name("trade_bn_cny_per_year") == "bn CNY/yr"
    assert (unit_from_name("wait_h"), unit_from_name("note")) == ("h", "")


def test_the_delta_chart_says_paired_only_when_it_is() -> None:
    """The delta chart said "paired difference" for Welch comparisons of runs with other
    seeds too, under a note saying "independent runs" (review 50, #12)."""
    from sim.kpis import kpi

    k = kpi("teu")
    d = pd.DataFrame({"variant": ["alt"], "metric": [k.column], "scope": ["total"],
                      "delta": [1.0], "delta_ci95": [0.5]})

    def title(paired: list[bool]) -> str:
        text = fg.delta_figure(d, k, paired)["layout"]["title"]["text"]
        return html.unescape(str(text).replace("<br>", " "))     # wrapped to fit

    assert "paired difference" in title([True])
    assert "paired" not in title([False]) and "Welch" in title([False])
    assert "paired where the runs share random numbers, else Welch" in title([True, False])


def test_the_key_figures_take_their_years_from_the_targets(one_run: Path,
                                                           tmp_path: Path) -> None:
    """The cards said "of 2023 goods trade" and "of the 2025 target", and the trade chart
    "against 2023 and the 2025 target", whatever years trade.csv's reference rows (from
    seeds/targets.csv) name (review 50, #13)."""
    from sim.report.page import cards, trade_refs

    run = tmp_path / "run"
    shutil.copytree(one_run, run)
    trade = pd.read_csv(run / "trade.csv")
    trade["item"] = trade["item"].replace({"2023 goods trade": "2024 goods trade",
                                           "2025 target": "2030 target"})
    trade.to_csv(run / "trade.csv", index=False)
    reseal(run)
    opened = RunDir.open(run)
    shown = html.unescape(cards(opened))
    assert "of 2024 goods trade" in shown and "of the 2030 target" in shown
    assert "of 2023 goods trade" not in shown and "of the 2025 target" not in shown
    title = fg.trade_figure([opened], trade_refs(opened))
    assert title is not None
    text = html.unescape(title["layout"]["title"]["text"].replace("<br>", " "))
    assert "2024 goods trade" in text and "2030 target" in text and "2025" not in text


def _with_season(one_run: Path, folder: Path, factor: float) -> RunDir:
    """`one_run` copied to `folder` as if its statistics period's mean seasonal factor were
    `factor` (run.json's, the manifest written anew)."""
    shutil.copytree(one_run, folder)
    meta = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**meta, "seasonal_factor": factor}))
    reseal(folder)
    return RunDir.open(folder)


def _period(one_run: Path) -> str:
    """"days 0-30": the statistics period of `one_run`, as a part-year note names it."""
    meta = json.loads((one_run / "run.json").read_text())
    return f"days {meta['warmup_days']:g}-{meta['days']:g}"


def test_the_trade_chart_says_a_part_year_s_period(one_run: Path, tmp_path: Path) -> None:
    """The trade chart draws per-year trade against a whole year's figures: a part year's
    runs name the days and the seasonal factor they are annualised from (a 120-day run's
    660 bn CNY/yr under 2023's 713.7 read as the model missing the year); whole years do
    not."""
    from sim.report.page import trade_refs

    def title(factor: float) -> str:
        opened = _with_season(one_run, tmp_path / f"run-{factor}", factor)
        fig = fg.trade_figure([opened], trade_refs(opened))
        assert fig is not None
        return html.unescape(fig["layout"]["title"]["text"].replace("<br>", " "))

    assert title(0.92).endswith(f"; annualised from {_period(one_run)} (mean seasonal "
                                "factor 0.920)")
    # no season to name: still a part year, its days said (trial64 #3)
    assert title(1.0).endswith(f"; annualised from {_period(one_run)}")
    year = RunDir.open(_as_period(one_run, tmp_path / "year", 395, 30, 1.0))
    chart = fg.trade_figure([year], trade_refs(year))
    assert chart is not None and "annualised" not in chart["layout"]["title"]["text"]


def test_the_report_gives_no_replication_count_from_fewer_than_five_pairs() -> None:
    """The report's note gave "about 474" from 2 replications, as the console did (review
    50, #16): below `sim.stats.PILOT_PAIRS` it says to run 5 first, as the console does."""
    from sim.kpis import kpi
    from sim.report.page import _unresolved_note

    k = kpi("teu")
    d = pd.DataFrame({"metric": [k.column], "scope": ["total"], "delta": [7300.0],
                      "delta_ci95": [15150.0], "replications": [2],
                      "replications_to_resolve": [474.0]})
    note = _unresolved_note(d, [k])
    assert "run at least 5 to estimate" in note and "474" not in note
    assert "about 474" in _unresolved_note(d.assign(replications=8), [k])


def test_the_report_s_own_differences_carry_the_pairs_its_note_counts() -> None:
    """The note's rule above reads a `replications` column, which the frames the report
    builds (`sim.kpis.key_deltas`) did not have: a comparison of 3 replications said "about
    52" in report.html where the console said to run 5 first."""
    from sim.kpis import key_deltas, kpi
    from sim.report.page import _unresolved_note

    k = kpi("teu")

    def rows(values: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"replication": [0, 1, 2], "metric": k.column, "scope": "total",
                             "value": values})

    d = key_deltas(rows([100.0, 200.0, 300.0]), rows([110.0, 190.0, 320.0]),
                   ["metric", "scope"], True, "v")
    assert d["replications_to_resolve"].isna().all()     # not sized from 3 pairs (trial64 #5)
    assert "run at least 5 to estimate" in _unresolved_note(d, [k])
    assert d["replications"].tolist() == [3]


def test_a_long_chart_title_is_wrapped_clear_of_the_toolbar() -> None:
    """plotly does not wrap a title: the delta chart of trade carried (a KPI's full label,
    about 180 characters) ran under the toolbar and off the chart. Each line now fits
    `TITLE_ROOM_PX` at its font, the whole title is kept, and the top margin makes room."""
    from sim.figsource import wrap
    from sim.kpis import kpi

    k = kpi("trade_bn_cny")
    d = pd.DataFrame({"variant": ["alt"], "metric": [k.column], "scope": ["total"],
                      "delta": [1.0], "delta_ci95": [0.5]})
    layout = fg.delta_figure(d, k, [True])["layout"]
    lines = layout["title"]["text"].split("<br>")
    assert len(lines) > 1
    assert all(wrap(html.unescape(line), fg.TITLE_ROOM_PX, 14) == html.unescape(line)
               for line in lines)                        # each fits on a line of its own
    assert html.unescape(" ".join(lines)).startswith(f"Δ {k.label}, {k.report_view.unit}")
    assert layout["margin"]["t"] == 40 + fg.TITLE_LINE_PX * (len(lines) - 1)
    short = fg._layout(title={"text": "a & b", "font": {"size": 14}})
    assert short["title"]["text"] == "a & b" and short["margin"]["t"] == 40   # left as given


def test_the_differences_say_a_shared_part_year_s_period(one_run: Path, tmp_path: Path) -> None:
    """A 90-day comparison's differences read "626.3 → 626.7 bn CNY/yr" under "Differences
    from the base", its days and seasonal factor named only in each run's own section
    further down (trial51): a note over them names the period; whole years get none, and
    runs of other periods keep their warning instead."""
    from sim.report.page import part_year_note

    def opened(factor: float, name: str) -> RunDir:
        return _with_season(one_run, tmp_path / name, factor)

    note = part_year_note([opened(0.92, "a"), opened(0.92, "b")])
    assert f"annualised from {_period(one_run)} (mean seasonal factor 0.920)" in note
    assert "not a simulated year" in note
    # a flat season's part year is a part year all the same (trial64 #3)
    flat = part_year_note([opened(1.0, "c"), opened(1.0, "d")])
    assert f"annualised from {_period(one_run)}, not a simulated year" in flat, flat
    years = [RunDir.open(_as_period(one_run, tmp_path / n, 395, 30, 1.0)) for n in "ef"]
    assert part_year_note(years) == ""


def test_the_checks_note_says_whether_the_feedback_settled_and_how_far_its_delays_were() -> None:
    """A run whose checks found nothing says so, and that its feedback settled; beside it,
    how far the delays its last pass planned on were from those met (run.json's
    `delay_gap`, each replication's as a range), where the flows' settling alone says nothing
    of the delays (review60 #2). No such words for passes that did not settle, or none."""
    from types import SimpleNamespace

    from sim.report.page import warnings_note

    def note(eq: object) -> str:
        return warnings_note(SimpleNamespace(meta={"warnings": [], "equilibrium": eq}))

    one = note({"passes": 3, "converged": True, "delay_gap": 0.083})
    assert "the delay feedback settled within its tolerance (its route flows; the delays its " \
        "last pass planned on were 8% from those met, TEU-weighted)" in one, one
    apart = note({"passes": 3, "converged": True, "delay_gap": 0.1,
                  "by_replication": [{"delay_gap": 0.081}, {"delay_gap": 0.12}]})
    assert "were 8-12% (by replication) from those met" in apart, apart
    older = note({"passes": 3, "converged": True})     # a run.json before the delay gap
    assert "settled within its tolerance." in older and "TEU-weighted" not in older
    assert "settled" not in note({"passes": 3, "converged": False, "delay_gap": 0.2})
    assert "settled" not in note(None)
