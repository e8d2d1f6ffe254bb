"""`cqsim run`, `cqsim validate` and `cqsim list`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim import cache
from sim.cli.common import (
    IMPORTS,
    OVERWRITE,
    InputPath,
    OutPath,
    admitted,
    check_out_place,
    limit_options,
    limits,
    named_inputs,
    override_options,
    show_warning,
)

if TYPE_CHECKING:   # the specs are imported when a command runs (a fast --help)
    from sim.specs import HubSpec, ServiceSpec


@click.command()
@click.argument("scenario", type=InputPath(path_type=Path))
@click.option("--out", "out", type=OutPath(), default=None,
              help="Folder for tables, flows.gpkg, map.png and report.html (default "
                   "out/<name>): written whole, replacing an earlier result there.")
@OVERWRITE
@override_options
@click.option("--no-map", is_flag=True, help="Skip map.png (faster).")
@click.option("--no-report", is_flag=True, help="Skip report.html (faster).")
@click.option("--progress", is_flag=True,
              help="Report progress on stderr even when it is not a terminal (plain lines; "
                   "the first when the replications start).")
@limit_options
@IMPORTS
def run(scenario: Path, out: Path | None, overwrite: bool, seed: int | None,
        replications: int | None, days: float | None, workers: int, no_map: bool,
        no_report: bool, progress: bool, max_memory: float, max_events: float,
        no_limit: bool) -> None:
    """Simulate SCENARIO and write its results."""
    from sim.inputs import plan_files
    from sim.outputs import Writers, run_about, write_run
    from sim.paths import default_out
    from sim.pipeline import run as run_plan
    from sim.staging import ResultFolder, replaced_line

    # the folder is checked, locked and staged before the simulation, so a bad --out or a
    # second run into it is refused at once (and the input's warnings, held until then,
    # do not print before that one error line)
    check_out_place(out)
    checked = admitted(scenario, seed, replications, days, workers, max_memory, max_events,
                       no_limit)
    plan = checked.plan
    read = plan_files(plan)   # the run hashes them as it starts (run.json)
    with ResultFolder(default_out(plan.name) if out is None else out, command="run",
                      overwrite=overwrite,   # nor any file the run reads, --overwrite or not
                      inputs=(*named_inputs(), plan.geodata, *read)) as folder:
        # helper processes import what flows.gpkg, map.png and report.html need meanwhile
        writers = Writers(map_png=not no_map, report=not no_report)
        try:
            results = run_plan(plan, workers=workers, progress=True if progress else None,
                               choices=checked.choices)
        except BaseException:
            writers.cancel()
            raise
        write_run(results, folder.path, writers=writers, shown_as=folder.final)
        folder.commit("run.json", run_about(results))

    from sim.checks import run_warnings
    from sim.cli.render import console, corridor_table, equilibrium_lines
    from sim.trade import attainment_lines

    screen = console(110)
    screen.print(corridor_table(results))
    for line in attainment_lines(results) + equilibrium_lines(results):
        screen.print(line)
    cons = results.by_replication("conservation")
    screen.print(   # per replication, as conservation.csv and the report say it
        f"conservation over the horizon, warm-up included (mean of {len(cons)} "
        f"replication(s)): created {cons['created_teu_horizon'].mean():,.0f} TEU = delivered "
        f"{cons['delivered_teu_horizon'].mean():,.0f} + in transit "
        f"{cons['in_transit_teu'].mean():,.0f} + waiting {cons['waiting_teu'].mean():,.0f} "
        f"(largest residual {cons['residual_teu'].abs().max():.2g}) - OK")
    screen.print(f"wrote {folder.target.shown}/ in {results.wall_seconds:.1f} s of simulation",
                 soft_wrap=True)
    if folder.replaced:
        screen.print(replaced_line(folder), soft_wrap=True)
    shown = folder.target.shown
    for w in run_warnings(results):     # one line each, escaped and cut, as compare's
        show_warning(f"{w.text} (see {shown}/{w.table})", kept=f"{shown}/run.json")


@click.command()
@click.argument("scenario", type=InputPath(path_type=Path))
@override_options(workers_default="1; a sweep file: every CPU")
@limit_options
@IMPORTS
def validate(scenario: Path, seed: int | None, replications: int | None, days: float | None,
             workers: int | None, max_memory: float, max_events: float, no_limit: bool) -> None:
    """Check SCENARIO exactly as `run` does (files, schema, geodata, basemap, references,
    routes, cost estimate) without running it, and its `uncertain:` ranges as `uncertainty`
    does (each end a valid scenario); a sweep file is checked as `sweep` does (priced, as it
    runs, on every CPU unless --workers is given)."""
    from sim.readers import read_yaml

    raw = read_yaml(scenario, "scenario or sweep file")
    # keys only a sweep file has (a scenario's stray `base:` is its own error, as in `run`)
    if "parameters" in raw or ("base" in raw and not {"extends", "network"} & set(raw)):
        given = [o for o, v in (("--seed", seed), ("--replications", replications),
                                ("--days", days)) if v is not None]
        if given:
            raise click.UsageError(f"{', '.join(given)}: a sweep file sets "
                                   f"{'it' if len(given) == 1 else 'them'} itself (its seed:, "
                                   "replications: and days: keys)")
        # priced as `cqsim sweep` runs it: on every CPU unless --workers says otherwise
        _validate_sweep(scenario, workers or os.cpu_count() or 1,
                        limits(max_memory, max_events, no_limit))
        return
    checked = admitted(scenario, seed, replications, days, workers or 1, max_memory, max_events,
                       no_limit)
    if checked.scenario.uncertain:      # its ranges, as `cqsim uncertainty` refuses them
        from sim.scenario import uncertain_inputs
        from sim.uncertainty import check_support
        check_support(checked.scenario, uncertain_inputs(checked.scenario))
    cache.release()     # accepted: its warnings print before the verdict they are about
    plan = checked.plan
    routes = sum(len(cs.routes) for cs in checked.choices)
    click.echo(f"{scenario}: valid ({len(plan.network.hubs)} hubs, "
               f"{len(plan.network.links)} links, {len(plan.network.lines)} lines, "
               f"{len(plan.flows)} flows, {routes} candidate routes; estimate: "
               f"{checked.estimate.describe()})")


def _validate_sweep(path: Path, workers: int, caps: Any) -> None:
    from sim.errors import plural
    from sim.sweep import load_sweep, prepare_sweep

    sweep = prepare_sweep(load_sweep(path), caps, workers)
    cache.release()     # accepted: its warnings print before the verdict they are about
    click.echo(f"{path}: valid sweep ({plural(len(sweep.variants), 'variant')}, "
               f"{plural(len(sweep.tasks), 'run')} of base {sweep.spec.base}; estimate: "
               f"{sweep.estimate.describe()}, with {plural(workers, 'worker')})")
    for line in sweep.changes_named():   # which change a changes.N path sets, by position
        click.echo(f"  {line}")


def _capacity(service: ServiceSpec) -> str:
    """A service's capacity in the units of the fields a change sets, as `list` shows it:
    "21/week x 100 TEU", or "60 TEU/day (21,900 TEU/yr)" for a continuous one (the yearly
    figure alone, typed into capacity_teu_per_day, was 365 times the capacity)."""
    from sim.specs import ContinuousService, ScheduledService

    if isinstance(service, ScheduledService):
        return f"{service.departures_per_week:g}/week x {service.vehicle_teu:g} TEU"
    if isinstance(service, ContinuousService):
        return (f"{service.capacity_teu_per_day:,g} TEU/day "
                f"({service.capacity_teu_per_year():,.0f} TEU/yr)")
    return f"{service.capacity_teu_per_year():,.0f} TEU/yr"


def _handling(hub: HubSpec) -> str:
    """A hub's handling in the fields a change sets, as `list` shows it: "6 positions x 40
    TEU/h (2,102,400 TEU/yr), yard 8,000 TEU, dwell 6 h"; a border whose gauge change is
    published in trains a day by those; a zone handles nothing (shippers are there). The
    dwell is there to read before a customs change scales it: Qinzhou's is 0 h, and
    "halve it" did nothing (trial66)."""
    from sim.specs import BorderSpec, ZoneSpec

    if isinstance(hub, ZoneSpec):
        return "shippers' zone (handles nothing)"
    yard = f"yard {hub.yard_teu:,.0f} TEU, dwell {hub.dwell_hours:g} h"
    if isinstance(hub, BorderSpec) and hub.trains_a_day:   # the trains a day set it
        return (f"gauge change {hub.outbound_trains_per_day:g} trains/day out and "
                f"{hub.inbound_trains_per_day:g} in, {yard}")
    return (f"{hub.handling_servers} positions x {hub.handling_teu_per_hour:g} TEU/h "
            f"({hub.handling_teu_per_year():,.0f} TEU/yr), {yard}")


@click.command(name="list")
@click.argument("what", type=click.Choice(["hubs", "services", "links", "flows"]))
@click.argument("scenario", type=InputPath(path_type=Path))
@IMPORTS
def list_ids(what: str, scenario: Path) -> None:
    """Print the ids of a scenario's hubs, services, links or flows (changes applied), one a
    line with a short description: the ids changes and sweeps refer to (a written flow by its
    path, demand.flows.N or changes.N.flow; the flows the market model generates are
    marked generated)."""
    from sim.network import build
    from sim.scenario import load_scenario

    plan = build(load_scenario(scenario))
    cache.release()     # accepted: its warnings print before the list
    net = plan.network
    if what == "hubs":
        rows = [(h.id, f"{h.kind}, {h.name} ({h.country}), {_handling(h)}")
                for h in net.hubs.values()]
        rows += [(k.id, f"lock, {k.name} ({k.country}), {k.lanes} lane(s) each way")
                 for k in net.locks.values()]
    elif what == "services":
        services = {line.service: line.spec for line in net.lines}
        rows = [(sid, f"{s.corridor} {s.mode}, {' > '.join(s.stops)}, {_capacity(s)}")
                for sid, s in services.items()]
    elif what == "links":
        rows = [(ln.id, f"{ln.corridor} {ln.mode}, {ln.from_hub} - {ln.to_hub}, "
                        f"{ln.km:,.0f} km, {ln.hours:g} h") for ln in net.links.values()]
    else:
        # each flow by the place it comes from (`Plan.flow_sources`): a written row by the
        # path changes and sweeps address it by; the market table's and the empty-box
        # balance's flows are generated (market growth and demand_growth with market move them)
        rows = [(field if field.startswith(("demand.flows.", "changes.")) else
                 f"(generated: {field})",
                 f"{f.origin} > {f.destination}, {f.commodity} ({f.flow_class}"
                 f"{', ' + f.market if f.market else ''}), " + (
                     "sized by the settled imbalance" if f.flow_class == "empty"
                     else f"{f.teu_per_year:,.0f} TEU/yr"))
                for f, (_, field) in zip(plan.flows, plan.flow_sources, strict=True)]
    width = max(len(r[0]) for r in rows)
    for ident, text in rows:
        click.echo(f"{ident:<{width}}  {text}")
