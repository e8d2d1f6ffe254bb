"""`cqsim sweep`: scenario variants x replications on a local pool or a Dask cluster."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click

from sim.cli.common import (
    IMPORTS,
    OVERWRITE,
    WORKERS,
    Finite,
    InputPath,
    OutPath,
    check_out_place,
    limit_options,
    limits,
    named_inputs,
    one_executor,
    show_warning,
)
from sim.errors import plural


class DashboardAddress(click.ParamType):
    """Where a LocalCluster serves its dashboard, in the forms Dask takes for one address:
    HOST:PORT, :PORT (every interface) or PORT; a port 0-65535 (0: any free one). Checked
    here: Dask reports a bad one only as "Cluster failed to start", after the variants are
    settled."""

    name = "host:port"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        text = str(value)
        host, _, port = text.rpartition(":")   # no colon: host "", port the whole text
        if (not host or _HOST.fullmatch(host)) and port.isascii() and port.isdigit() \
                and int(port) <= 65_535:
            return text
        self.fail(f"expected HOST:PORT, :PORT or PORT with a port 0-65535, got {text!r}",
                  param, ctx)


_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?")  # a name or an IPv4


@click.command()
@click.argument("sweep_file", type=InputPath(path_type=Path))
@click.option("--out", "out", type=OutPath(), default=None,
              help="Results folder (default out/sweeps/<name>), written whole at the end; "
                   "finished runs wait beside it until then.")
@OVERWRITE
@click.option("--workers", type=WORKERS, default=None,
              help="Local processes (or LocalCluster workers); default: CPU count. "
                   "1 runs in this process.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on an existing Dask distributed scheduler (tls://HOST:PORT with "
                   "--tls-ca-file, --tls-cert and --tls-key).")
@click.option("--tls-ca-file", type=InputPath(exists=True, dir_okay=False, path_type=Path),
              default=None, help="CA certificate (PEM) the scheduler's certificate is signed by.")
@click.option("--tls-cert", type=InputPath(exists=True, dir_okay=False, path_type=Path),
              default=None, help="This client's certificate (PEM).")
@click.option("--tls-key", type=InputPath(exists=True, dir_okay=False, path_type=Path),
              default=None, help="This client's private key (PEM), if not in --tls-cert.")
@click.option("--local-cluster", is_flag=True, help="Start a Dask LocalCluster for this sweep.")
@click.option("--dashboard-address", type=DashboardAddress(), default="127.0.0.1:0",
              show_default=True,
              metavar="HOST:PORT",
              help="Where a --local-cluster serves its dashboard (default: this machine only, "
                   "any free port; :8787 for every interface).")
@click.option("--no-worker-timeout", type=Finite(min=1), default=None,
              metavar="SECONDS",
              help="Stop a Dask sweep that has had no worker this long (default 120).")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted sweep into --out (finished runs are not redone), "
                   "or retry the failed runs of a finished one.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots (faster).")
@limit_options
@IMPORTS
def sweep(sweep_file: Path, out: Path | None, overwrite: bool, workers: int | None,
          scheduler: str | None, tls_ca_file: Path | None, tls_cert: Path | None,
          tls_key: Path | None, local_cluster: bool, dashboard_address: str,
          no_worker_timeout: float | None, resume: bool, no_plots: bool, max_memory: float,
          max_events: float, no_limit: bool) -> None:
    """Run every variant x replication of SWEEP_FILE and write runs, summary and plots."""
    from sim.sweep import execute_sweep, load_sweep, prepare_sweep

    one_executor(scheduler, local_cluster)
    _check_dashboard(dashboard_address, local_cluster)
    security = _security(scheduler, tls_ca_file, tls_cert, tls_key)
    check_out_place(out)
    prepared = prepare_sweep(load_sweep(sweep_file), limits(max_memory, max_events, no_limit),
                             workers or os.cpu_count() or 1)
    from sim.paths import default_out

    spec = prepared.spec
    for line in prepared.changes_named():   # which change a changes.N path sets, before runs
        click.echo(line)
    outcome = execute_sweep(prepared, default_out(spec.name, folder="sweeps") if out is None
                            else out, workers=workers, scheduler=scheduler,
                            local_cluster=local_cluster, resume=resume, plots=not no_plots,
                            overwrite=overwrite, inputs=named_inputs(), security=security,
                            no_worker_timeout=no_worker_timeout,
                            dashboard_address=dashboard_address)
    from sim.cli.render import console, variant_table

    shown = out if out is not None else outcome.out
    screen = console(110)
    screen.print(variant_table(outcome.summary, spec.parameters.names))
    total = len(outcome.runs)
    screen.print(f"{total} runs ({outcome.resumed} done before resume, {outcome.failed} failed)"
                  f" on {outcome.executor} in {outcome.wall_seconds:.1f} s -> {shown}/")
    if outcome.replaced:
        screen.print(f"replaced what {shown}/ held: {outcome.replaced}", soft_wrap=True)
    from sim.sweep.summary import no_sensitivity
    from sim.sweep.tasks import HEADLINE_KPIS

    empty = no_sensitivity(outcome.runs, prepared.params, HEADLINE_KPIS)
    for note in (*prepared.season_notes(),   # sensitivity.csv has no column for its note
                 *([f"sensitivity.csv is empty: {empty}"] if empty else [])):
        screen.print(f"note: {note}", soft_wrap=True)
    from sim.checks import sweep_notes

    set_by = spec.settings().get("horizon.warmup_days")   # the sweep's own, if it sets it
    for warned in sweep_notes(outcome.runs, prepared.variant_plans(), warmup_from=(
            f"the sweep's {set_by[0]}" if set_by else "the base")):
        show_warning(warned, f"{shown}/runs.parquet")
    if outcome.failed:
        click.echo(f"cqsim: {outcome.failed} of {plural(total, 'run')} failed; their errors are in "
                   f"{shown}/runs.parquet (status, error); --resume retries them", err=True)
        raise SystemExit(1)


def _check_dashboard(address: str, local_cluster: bool) -> None:
    """--dashboard-address only with --local-cluster (alone it was ignored without a word),
    and on a host this machine resolves and can listen on: an unresolvable one, or one of
    another machine (192.0.2.1), stopped the LocalCluster with a raw OSError, exit 1, blamed
    on --local-cluster. The port is not tried: Dask serves on another when it is taken."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    if not local_cluster:
        if ctx.get_parameter_source("dashboard_address") is not ParameterSource.DEFAULT:
            raise click.UsageError("--dashboard-address: expected --local-cluster too (only a "
                                   "LocalCluster this sweep starts serves a dashboard)")
        return
    host = address.rpartition(":")[0]
    if not host:        # :PORT or PORT: every interface
        return
    import socket

    from sim.errors import InputError

    try:
        found = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise InputError("--dashboard-address", "", "HOST:PORT, :PORT or PORT with a host "
                         "this machine resolves (a name or an IPv4 address, e.g. 127.0.0.1)",
                         address) from None
    why = ""
    for family, kind, proto, _, where in found:   # any port (0): only the host is tried
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.bind(where)
            return
        except OSError as exc:
            why = exc.strerror or str(exc)
    raise InputError("--dashboard-address", "", "HOST:PORT, :PORT or PORT with a host of this "
                     f"machine, one it can listen on (e.g. 127.0.0.1; {host}: {why})", address)


def _security(scheduler: str | None, ca: Path | None, cert: Path | None,
              key: Path | None) -> Any:
    """The distributed.Security for a tls:// scheduler (None: Dask's own configuration)."""
    given = [o for o, v in (("--tls-ca-file", ca), ("--tls-cert", cert), ("--tls-key", key))
             if v is not None]
    if not given:
        import dask.config

        if (scheduler or "").startswith("tls://") and not dask.config.get(
                "distributed.comm.tls.ca-file", None):
            raise click.UsageError(f"--scheduler {scheduler} needs --tls-ca-file and "
                                   "--tls-cert (and --tls-key when the key is not in the "
                                   "certificate file), or Dask's distributed.comm.tls settings")
        return None
    if not (scheduler or "").startswith("tls://"):
        raise click.UsageError(f"{', '.join(given)} need{'s' if len(given) == 1 else ''} "
                               "--scheduler tls://HOST:PORT")
    if ca is None or cert is None:
        raise click.UsageError("a tls:// scheduler needs --tls-ca-file and --tls-cert "
                               "(and --tls-key when the key is not in the certificate file)")
    _check_pem(ca, cert, key)
    from distributed import Security

    return Security(tls_ca_file=str(ca), tls_client_cert=str(cert),
                    tls_client_key=str(key) if key else None, require_encryption=True)


def _check_pem(ca: Path, cert: Path, key: Path | None) -> None:
    """The certificate files load as TLS will load them, before any connection: a file that
    is not PEM was reported as an unreachable --scheduler (InputError naming the option)."""
    import ssl

    from sim.errors import InputError

    try:
        context = ssl.create_default_context(cafile=str(ca))
    except (ssl.SSLError, ValueError, OSError):
        raise InputError(ca, "--tls-ca-file", "a PEM file of CA certificates") from None
    try:
        context.load_cert_chain(str(cert), str(key) if key else None)
    except (ssl.SSLError, ValueError, OSError):
        raise InputError(cert, "--tls-cert", "a PEM certificate and its matching private "
                                             "key (in this file or --tls-key)") from None
