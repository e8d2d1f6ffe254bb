"""cqsim benchmarks, run on demand (`make bench` or `python -m benchmarks.run`), never in
`make test`. Every figure is measured side by side in one run and printed with its goal.

    python -m benchmarks.run                 # everything (a few minutes)
    python -m benchmarks.run --only tandem   # one section: tandem, baseline, growth, sweep,
                                             # command (whole `cqsim run` vs bare SimPy)
    python -m benchmarks.run --profile       # cProfile top entries of one baseline year

Memory is the peak resident set of a fresh subprocess per case (VmHWM), so it includes the
interpreter and libraries (about 125 MB of it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.scenario import Scenario
    from sim.specs import HubSpec

ROOT = Path(__file__).resolve().parent.parent


def _baseline_path() -> Path:
    calibrated = ROOT / "scenarios" / "baseline-2023.yaml"
    return calibrated if calibrated.is_file() else ROOT / "scenarios" / "baseline.yaml"


# ----------------------------------------------------------------------- one case (child)
def scaled(years: float, demand: float, capacity: float = 1.0) -> Scenario:
    """The baseline for `years` with demand x `demand` and every service, hub and lock
    capacity x `capacity` (`_capacity_fields`)."""
    from sim.network import build
    from sim.scenario import DemandGrowth, ScaleChange, load_scenario, with_overrides
    from sim.specs import ScheduledService

    scenario = load_scenario(_baseline_path())
    scenario = with_overrides(scenario, **{"horizon.days": 365.0 * years,
                                           "horizon.warmup_days": 0.0})
    changes = list(scenario.changes)
    if demand != 1.0:
        changes.append(DemandGrowth(kind="demand_growth", factor=demand, why="benchmark"))
    if capacity != 1.0:
        plan = build(scenario)
        for sid, spec in scenario.network.services.items():
            field = "vehicle_teu" if isinstance(spec, ScheduledService) \
                else "capacity_teu_per_day"
            changes.append(ScaleChange(kind="scale", service=sid, field=field,
                                       factor=capacity))
        changes += [ScaleChange(kind="scale", hub=hid, field=f, factor=capacity)
                    for hid, hub in plan.network.hubs.items() for f in _capacity_fields(hub)]
        changes += [ScaleChange(kind="scale", lock=lid, field="chamber_t", factor=capacity)
                    for lid in plan.network.locks]
    return scenario.model_copy(update={"changes": tuple(changes)})


def case(years: float, demand: float, capacity: float = 1.0) -> dict[str, float]:
    """One replication of `scaled(years, demand, capacity)` (in this process)."""
    from sim.engine import Model
    from sim.network import build
    from sim.routing import choice_sets

    scenario = scaled(years, demand, capacity)
    plan = build(scenario)
    choices = choice_sets(plan)
    model = Model(plan, 0, choices)
    t0, c0 = time.perf_counter(), time.process_time()
    result = model.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    lots = model._lot_id  # lots created, split parts included
    events = next(model.env._eid)  # simpy's running event id: events scheduled so far
    return {"wall_s": wall, "cpu_s": cpu, "lots": lots, "events": events,
            "delivered_teu": result.conservation["delivered_teu"],
            "maxrss_mb": peak_mb()}


def _capacity_fields(hub: HubSpec) -> tuple[str, ...]:
    """The fields that are a hub's capacity: none of a zone of shippers (it handles nothing:
    nominal, ample figures at their bounds), a gauge-change border's trains a day where it
    has them (its positions then only hold each train longer), else positions and yard."""
    from sim.specs import BorderSpec, ZoneSpec

    if isinstance(hub, ZoneSpec):
        return ()
    if isinstance(hub, BorderSpec) and hub.trains_a_day:
        return tuple(f for f in ("outbound_trains_per_day", "inbound_trains_per_day",
                                 "yard_teu") if getattr(hub, f) is not None)
    return ("handling_servers", "yard_teu")


def peak_mb() -> float:
    """Peak resident memory of this process in MB: VmHWM, which exec resets, where Linux has
    it (ru_maxrss carries the parent's peak over fork and exec); else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.is_file():
        for row in status.read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_case(years: float, demand: float = 1.0, capacity: float = 1.0) -> dict[str, float]:
    """Run `case` in a fresh interpreter so peak memory belongs to that case alone."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--case", str(years),
                          str(demand), str(capacity)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------- sections
def line(label: str, value: str, goal: str, ok: bool | None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"  {label:<46} {value:>22}   goal {goal}{mark}")


def tandem_section(lots: int) -> None:
    from benchmarks import tandem

    print(f"\n1. Engine overhead: 3-stage tandem of M/M/{tandem.SERVERS} hubs, "
          f"{lots:,} lots (utilization 2/3)")
    runs = {}
    for name, fn in (("bare SimPy", tandem.bare_simpy), ("cqsim", tandem.cqsim_tandem),
                     ("ciw", tandem.ciw_tandem)):
        wall, done, sojourn = fn(lots)
        runs[name] = (wall / done * 1e6, sojourn)
        line(f"{name}: us per lot (mean sojourn {sojourn:.2f} h)", f"{wall / done * 1e6:.1f}",
             "", None)
    print(f"  {'theory (Jackson) mean sojourn':<46} {tandem.theory_sojourn():>22.2f} h")
    ratio = runs["cqsim"][0] / runs["bare SimPy"][0]
    line("cqsim / bare SimPy, time per lot", f"{ratio:.2f}x", "<= 1.5x", ratio <= 1.5)
    ratio = runs["cqsim"][0] / runs["ciw"][0]
    line("cqsim / ciw, time per lot", f"{ratio:.2f}x", "< 1x", ratio < 1.0)


def baseline_section() -> None:
    print(f"\n2. A baseline year: {_baseline_path().name}, 1 replication, 365 days")
    r = run_case(1.0)
    line("wall time of the simulation", f"{r['wall_s']:.2f} s", "< 3 s", r["wall_s"] < 3.0)
    line("CPU time of the simulation (what load does not move)", f"{r['cpu_s']:.2f} s",
         "< 3 s", r["cpu_s"] < 3.0)
    line("peak memory of the process", f"{r['maxrss_mb']:.0f} MB", "< 500 MB",
         r["maxrss_mb"] < 500)
    line("lots per second", f"{r['lots'] / r['wall_s']:,.0f}", "", None)


def growth_section() -> None:
    print("\n3. Growth: CPU time per unit of work (years x demand) relative to the first case"
          " (CPU, as the cases run one after another on a shared machine);"
          " 1.00 = linear, goal within 10%.\n   Events per unit and time per event (both "
          "relative) say whether a miss is more work (saturation) or dearer work.")
    for label, cases in (("horizon (years)", [(1, 1.0, 1.0), (2, 1.0, 1.0), (4, 1.0, 1.0)]),
                         ("demand (x baseline)", [(1, 1.0, 1.0), (1, 2.0, 1.0), (1, 4.0, 1.0)]),
                         ("demand and capacity", [(1, 1.0, 1.0), (1, 2.0, 2.0),
                                                  (1, 4.0, 4.0)])):
        base = None
        for years, demand, capacity in cases:
            r = run_case(years, demand, capacity)
            unit = years * demand
            per = r["cpu_s"] / unit
            base = base or (per, r["maxrss_mb"], r["events"] / unit)
            rel = per / base[0]
            events_rel = r["events"] / unit / base[2]
            per_event = (r["cpu_s"] / r["events"]) * base[2] / base[0]
            key = f"{years:g} y" if "horizon" in label else f"x{demand:g}"
            line(f"{label} {key}: s | s/unit | events/unit | s/event",
                 f"{r['cpu_s']:.2f} | {rel:.2f} | {events_rel:.2f} | {per_event:.2f}",
                 "0.9-1.1", 0.9 <= rel <= 1.1 if unit > 1 else None)
            line(f"{label} {key}: peak MB", f"{r['maxrss_mb']:.0f}", "", None)


def sweep_section() -> None:
    print("\n4. Sweep scaling: 40 runs of the baseline (365 days each)")
    spec = {"base": str(_baseline_path()), "replications": 4, "days": 365,
            "parameters": {"grid": {
                "network.services.south-rail-sea-qinzhou.departures_per_week":
                    [10, 12, 14, 16, 18, 20, 22, 24, 26, 28]}}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.yaml"
        import yaml
        path.write_text(yaml.safe_dump(spec))
        walls = {}
        for label, args in (("local pool, 1 worker", ["--workers", "1"]),
                            ("local pool, 2 workers", ["--workers", "2"]),
                            ("dask LocalCluster, 2 workers", ["--workers", "2",
                                                              "--local-cluster"])):
            # each sweep settles from an empty cache of its own: with the user's, the first
            # sweep's feedback passes made the later ones 4 times faster, not their workers
            cache = Path(tmp) / f"cache-{label.replace(' ', '_')}"
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(path),
                                   "--no-plots", "--out",
                                   str(Path(tmp) / label.replace(" ", "_")), *args],
                                  capture_output=True, text=True, cwd=ROOT,
                                  env={**os.environ, "CQSIM_CACHE_DIR": str(cache)})
            walls[label] = time.perf_counter() - t0
            status = "" if proc.returncode == 0 else f" (failed: {proc.stderr[-200:]})"
            line(f"{label}: wall", f"{walls[label]:.1f} s{status}", "", None)
        speedup = walls["local pool, 1 worker"] / walls["local pool, 2 workers"]
        line("speed-up 2 workers vs 1", f"{speedup:.2f}x", ">= 1.7x", speedup >= 1.7)
        overhead = (walls["dask LocalCluster, 2 workers"] - walls["local pool, 2 workers"]) / 40
        line("Dask overhead per run vs local pool", f"{overhead * 1000:.0f} ms", "", None)


def command_section(rounds: int) -> None:
    """Whole commands as a user runs them, in fresh processes: `cqsim run` of a baseline
    year (imports, settling, simulation, tables, GeoPackage and map included) against a bare
    SimPy M/M/3 queue of 200,000 customers (benchmarks/mm3.py), alternating, median of
    `rounds` each."""
    import statistics

    scenario = _baseline_path()
    print(f"\n6. Whole command: `cqsim run {scenario.name} --replications 1 --days 365` vs a "
          f"bare SimPy M/M/3 of 200,000 customers, each a fresh process, median of {rounds}")
    cqsim = [sys.executable, "-m", "sim.cli", "run", str(scenario), "--replications", "1",
             "--days", "365"]
    floor = [sys.executable, "-m", "benchmarks.mm3", "--customers", "200000"]
    walls: dict[str, list[float]] = {"cqsim run": [], "bare SimPy M/M/3": []}
    cpus: dict[str, list[float]] = {"cqsim run": [], "bare SimPy M/M/3": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for label, cmd in (("bare SimPy M/M/3", floor),
                               ("cqsim run", [*cqsim, "--out", f"{tmp}/run{r}"])):
                t0 = time.perf_counter()
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, cwd=ROOT)
                _, status, usage = os.wait4(proc.pid, 0)
                walls[label].append(time.perf_counter() - t0)
                cpus[label].append(usage.ru_utime + usage.ru_stime)
                proc.returncode = os.waitstatus_to_exitcode(status)
                if proc.returncode:
                    raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode})")
    for what, values_of in (("wall", walls), ("CPU", cpus)):
        med = {k: statistics.median(v) for k, v in values_of.items()}
        for label, values in values_of.items():
            line(f"{label}: {what}, median (min-max)",
                 f"{med[label]:.2f} s ({min(values):.2f}-{max(values):.2f})", "", None)
        ratio = med["cqsim run"] / med["bare SimPy M/M/3"]
        line(f"cqsim run / bare SimPy M/M/3, {what}", f"{ratio:.2f}x", "<= 2x" if what == "wall"
             else "", ratio <= 2.0 if what == "wall" else None)


def profile_section() -> None:
    import cProfile
    import pstats

    from sim.engine import Model
    from sim.pipeline import prepare

    plan = prepare(_baseline_path(), replications=1)
    model = Model(plan, 0)
    profiler = cProfile.Profile()
    profiler.enable()
    model.run()
    profiler.disable()
    print(f"\n5. Profile of one baseline year ({_baseline_path().name}), by own time")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["tandem", "baseline", "growth", "sweep", "command"])
    parser.add_argument("--rounds", type=int, default=5, help="whole-command rounds")
    parser.add_argument("--lots", type=int, default=200_000, help="lots in the tandem")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--case", nargs=3, type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(case(*args.case)))
        return
    if args.profile:
        profile_section()
        return
    print(f"cqsim benchmarks on {os.cpu_count()} cores, python {sys.version.split()[0]}")
    sections = {"tandem": lambda: tandem_section(args.lots), "baseline": baseline_section,
                "growth": growth_section, "sweep": sweep_section,
                "command": lambda: command_section(args.rounds)}
    for name, fn in sections.items():
        if args.only in (None, name):
            fn()


if __name__ == "__main__":
    main()
