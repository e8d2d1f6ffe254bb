"""Batch sweeps: scenario variants x replications on a local process pool or a Dask cluster.

A sweep file names a base scenario, parameters over scenario fields by dotted path (a full
`grid`, or a `sample`: Latin hypercube or random over ranges, with a seed), replications and
an optional horizon. Run (variant k, replication r) simulates the variant with the base
scenario's seed and replication r, so all variants share their random numbers (common random
numbers) and one run gives the same KPIs on any executor.

Each finished run is written at once, atomically, to DIR/runs/<run_id>.parquet: a sweep killed
at any moment resumes (`resume=True`) without redoing finished runs and without duplicates.
At the end the parts are assembled into DIR/runs.parquet, DIR/summary.csv (mean and 95% CI
per variant), DIR/sensitivity.csv and DIR/plots/*.png.

Modules: `spec` (the sweep file), `design` (its variants), `tasks` (variants settled into
runs, and the function an executor calls on one), `store` (the results folder), `executors`
(where runs execute), `summary` (per-variant CIs, main effects, sensitivity), `plots`, and
`execute` (the whole sweep).
"""

from sim.sweep.design import design
from sim.sweep.execute import SweepOutcome, assemble, execute_sweep, run_sweep
from sim.sweep.spec import Parameters, Range, Sample, SweepSpec, load_sweep
from sim.sweep.store import ID_COLUMNS, STATUS_COLUMNS, TIMING_COLUMNS, collect
from sim.sweep.tasks import HEADLINE_KPIS, RunTask, Sweep, execute_run, prepare_sweep

__all__ = [
    "HEADLINE_KPIS", "ID_COLUMNS", "STATUS_COLUMNS", "TIMING_COLUMNS", "Parameters", "Range",
    "RunTask", "Sample", "Sweep", "SweepOutcome", "SweepSpec", "assemble", "collect", "design",
    "execute_run", "execute_sweep", "load_sweep", "prepare_sweep", "run_sweep",
]
