"""Estimation of the market model's free parameters through the simulation.

The free parameters are the `market.choice.*` paths and the shares of empties
(`market.empties.repositioned_share@<gateway>+...`, one share for the lanes of the gateways
named) that fitting figures of the calibration table name in their `parameter` column (a
gateway's constant to its volume, a market-specific constant to a value carried, the
China-Europe lanes' share to their round-trip loaded ratio, ...): as many figures as
parameters. Each pass
simulates the plan (settle and replicate, congestion and delay feedback included, the same seed
every pass: common random numbers). Parameters are moved on their own scale x (constants as
they are, multipliers as logs) by a damped diagonal Newton step on ln(figures):

    x_k += DAMPING x ln(target_k / simulated_k) / J_kk     (clipped to +-MAX_MOVE)

with J_kk the sensitivity of figure k to its own parameter, signed and at least MIN_SLOPE in
size, measured once by a CRN-paired run per parameter at the start; x stays inside the bounds
a scenario file may hold. A figure its parameter hardly moves (a sensitivity near the floor)
does not identify it: the parameter crawls by MAX_MOVE a pass, and the figure belongs among the
validation figures, the parameter held. (The classic constant iteration, J_kk = 1, crawls
when a figure is mostly input flows the constant does not move; a full quasi-Newton step
with Broyden updates and a secant per parameter both oscillated on the simulation's noise
when gateways draw from each other.)
At the solution the Jacobian J of ln(figures) in x is measured by one CRN-paired run per
parameter, and the standard errors follow by the delta method:

    Cov(x) = J^-1 Sigma J^-T,  Sigma = diag(sd of ln figure)^2

where a figure's sd combines its band read as a 95% interval of what was published
(assumption: the band is the figure's uncertainty) and the standard error of the simulated
mean, its t interval over the replications divided by the interval's quantile (known from
two replications or more: with one, the standard errors leave the noise out and their
method says so). A pass has converged when every figure is in its band and its ln gap is
under the tolerance and under a quarter of its band's half-width (`within`). A figure that
measures nothing (0) lies infinitely below its target: its parameter takes the largest step
toward it, such a pass is never kept as the closest, and a parameter whose figure still
reads 0 at the end is reported not fitted.
No parameter is set to a figure it is checked against: the figures it is fitted to are
reported as fitting figures, and only the validation figures check the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.calibration import CalibrationRow, CalibrationTarget, calibrate
from sim.market.estimates import (
    PREFIX,
    PREFIXES,
    Estimate,
    set_share,
    share_gateways,
    share_value,
)
from sim.market.spec import ASC_LIMIT, Choice, Empties, MarketSection
from sim.network import Plan, revise
from sim.stats import t_critical

LOG_SCALE = ("cost_scale", "trade_elasticity")   # positive: estimated as logs
STEP = 0.5          # perturbation of x for the Jacobian (utils, or log units): large enough
                    # to stand out of the noise of a one-replication run
MAX_MOVE = 1.5      # at most this change of x in one pass
DAMPING = 0.8       # share of the Newton step taken (the figures are noisy)
MIN_SLOPE = 0.05    # floor of a sensitivity (a figure its parameter hardly moves)
FLAT = 1e-3         # below this for every figure, a parameter is not identified at its value
BAND_Z = 1.96       # a band read as a 95% interval
BAND_SHARE = 0.25   # a figure converges within this share of its band's half-width (in ln)


@dataclass(frozen=True)
class EstimationResult:
    """Estimates with standard errors, the fitting rows at the estimates, and the passes."""

    estimates: list[Estimate]
    rows: list[CalibrationRow]
    passes: int
    converged: bool
    history: list[dict[str, float]] = field(default_factory=list)
    correlation: dict[tuple[str, str], float] = field(default_factory=dict)


def free_parameters(targets: list[CalibrationTarget]) -> list[tuple[str, CalibrationTarget]]:
    """(parameter path, fitting figure) of every fitting figure that names a market.choice
    parameter or a share of empties, in file order."""
    return [(t.parameter, t) for t in targets if t.role == "fit"
            and t.parameter.startswith(PREFIXES)]


def get_param(section: MarketSection, path: str) -> float:
    """The value of a `market.choice.*` path (a constant not given is 0) or of a share of
    empties (the first named lane's; lanes without their own take the section's)."""
    if share_gateways(path):
        try:
            return share_value(_empties_data(section, path), path)
        except KeyError:
            raise ValueError(f"not an estimable parameter: {path} (no lane of its "
                             f"gateways)") from None
    choice = section.choice
    keys = path[len(PREFIX):].split(".")
    if keys[0] == "asc" and len(keys) == 2:
        return float(choice.asc.get(keys[1], 0.0))
    if len(keys) == 1 and keys[0] in Choice.model_fields and keys[0] != "asc":
        return float(getattr(choice, keys[0]))
    raise ValueError(f"not an estimable parameter: {path}")


def set_param(section: MarketSection, path: str, value: float) -> MarketSection:
    """`section` with the parameter at `path` set to `value` (validated); a share is set on
    every lane of the gateways it names."""
    if share_gateways(path):
        data = _empties_data(section, path)
        if set_share(data, path, value, f"estimated ({path})"):
            raise ValueError(f"not an estimable parameter: {path} (no lane of its gateways)")
        return section.model_copy(update={"empties": Empties.model_validate(data["empties"])})
    keys = path[len(PREFIX):].split(".")
    data = section.choice.model_dump()
    if keys[0] == "asc" and len(keys) == 2:
        data["asc"] = {**data["asc"], keys[1]: value}
    else:
        data[keys[0]] = value
    return section.model_copy(update={"choice": Choice.model_validate(data)})


def _empties_data(section: MarketSection, path: str) -> dict[str, Any]:
    """The section's empties as the shares of `sim.market.estimates` read and set them."""
    if section.empties is None:
        raise ValueError(f"not an estimable parameter: {path} (no market.empties)")
    return {"empties": section.empties.model_dump()}


def _is_log(path: str) -> bool:
    return path.split(".")[-1] in LOG_SCALE


def start_problem(path: str, value: float) -> str | None:
    """Why `value` cannot start the estimation of `path`, or None: a parameter estimated on
    a log scale (`LOG_SCALE`) cannot start at 0 or below, where its log is undefined and no
    multiplicative step leaves it (review60 #8)."""
    if _is_log(path) and value <= 0:
        return "a value above 0 (it is estimated on a log scale)"
    return None


def _to_x(path: str, value: float) -> float:
    return math.log(value) if _is_log(path) else value


def _from_x(path: str, x: float) -> float:
    return math.exp(x) if _is_log(path) else x


Runner = Callable[[Plan], object]   # a plan -> Results (sim.pipeline.run with the settings)


def _evaluate(plan: Plan, section: MarketSection, targets: list[CalibrationTarget],
              runner: Runner) -> list[CalibrationRow]:
    results = runner(revise(plan, section=section))
    return calibrate(results, targets)  # type: ignore[arg-type]


def _log_values(rows: list[CalibrationRow]) -> np.ndarray:
    """ln of each figure: -inf for one that measured nothing (0 lies infinitely below any
    published figure), NaN for one not known."""
    sim = np.array([r.simulated for r in rows], dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(np.where(sim >= 0, sim, np.nan))


def within(fit: list[CalibrationTarget], tolerance: float) -> np.ndarray:
    """Each figure's tolerance on its ln gap: `tolerance`, or a quarter of its band's
    half-width in ln where that is narrower, so a narrow band (a loaded ratio of 0.95-1.00)
    is not met by wherever the estimation starts (review49 M3)."""
    return np.array([min(tolerance, BAND_SHARE * (math.log(t.high) - math.log(t.low)) / 2)
                     if t.low > 0 else tolerance for t in fit])


def estimate(plan: Plan, targets: list[CalibrationTarget], runner: Runner, *,
             max_passes: int = 10, tolerance: float = 0.03,
             progress: Callable[[str], None] | None = None) -> EstimationResult:
    """Estimate the free parameters of `plan`'s market model to the fitting figures of
    `targets` (see the module docstring); `runner` simulates a plan into Results."""
    if plan.market is None:
        raise ValueError("the scenario has no market section: nothing to estimate")
    pairs = free_parameters(targets)
    if not pairs:
        raise ValueError("no fitting figure names a market.choice parameter or a share of "
                         "empties")
    fit = [t for _, t in pairs]
    paths = [p for p, _ in pairs]
    section = plan.market.section
    start = [get_param(section, p) for p in paths]
    for p, value in zip(paths, start, strict=True):
        problem = start_problem(p, value)
        if problem:
            raise ValueError(f"{p}: expected {problem}, got {value:g}")
    x = np.array([_to_x(p, value) for p, value in zip(paths, start, strict=True)])
    low, high = (np.array(b) for b in zip(*(domain(p) for p in paths), strict=True))
    goal = np.log(np.array([t.published for t in fit]))
    tol = within(fit, tolerance)
    jac: np.ndarray | None = None
    own = np.ones(len(paths))
    best: tuple[float, np.ndarray, np.ndarray, list[CalibrationRow]] | None = None
    history: list[dict[str, float]] = []
    converged = False
    passes = 0
    rows: list[CalibrationRow] = []
    y = np.zeros(len(paths))
    for passes in range(1, max_passes + 1):
        section = _section_at(section, paths, x)
        rows = _evaluate(plan, section, fit, runner)
        y = _log_values(rows)
        history.append({**{p: _from_x(p, v) for p, v in zip(paths, x, strict=True)},
                        **{f"ln_gap:{t.id}": float(g) for t, g in zip(fit, goal - y,
                                                                        strict=True)}})
        if progress:
            progress(f"pass {passes}: " + ", ".join(
                f"{p.rsplit('.', 1)[-1]}={_from_x(p, v):.3f}" for p, v in zip(
                    paths, x, strict=True)) + "; " + ", ".join(
                f"{t.id} {r.simulated:,.4g}/{t.published:,.4g}" for t, r in zip(
                    fit, rows, strict=True)))
        gap = goal - y     # +inf where a figure measured nothing, NaN where not known
        # a pass with a figure unmeasured is never the closest (review49 M4)
        worst = float(np.max(np.where(np.isnan(gap), math.inf, np.abs(gap))))
        if best is None or worst < best[0]:
            best = (worst, x.copy(), y.copy(), rows)
        if np.all(np.isfinite(gap)) and np.all(np.abs(gap) < tol) and \
                all(r.ok for r in rows):
            converged = True
            break
        if jac is None:
            jac = _jacobian(plan, section, paths, x, y, fit, runner)
            own = own_slopes(jac)
            if progress:
                progress("sensitivity of each figure to its parameter: " + ", ".join(
                    f"{t.id} {v:.3f}" for t, v in zip(fit, np.diag(jac), strict=True)))
        # a figure at 0 is raised by the largest step; one not known does not move
        move = DAMPING * np.where(np.isnan(gap), 0.0, gap) / own
        x = np.clip(x + np.clip(move, -MAX_MOVE, MAX_MOVE), low, high)
    section = _section_at(section, paths, x)
    if not converged and best is not None:  # the closest pass's values
        _, x, y, rows = best
        section = _section_at(section, paths, x)
    jac = _jacobian(plan, section, paths, x, y, fit, runner)
    sd = np.array([_log_sd(t, r, plan.replications) for t, r in zip(fit, rows, strict=True)])
    cov = _delta_cov(jac, sd)
    noise = ("and the simulation's CI" if all(np.isfinite(r.ci95) for r in rows) else
             "alone (one replication: the simulation's noise not measured, so left out)")
    estimates = []
    for k, (path, t) in enumerate(pairs):
        value = _from_x(path, float(x[k]))
        how = (f"fitted to {t.id} through the simulation (damped Newton steps on CRN runs); "
               f"se: delta method from the CRN Jacobian and the figure's band {noise}")
        if not rows[k].simulated > 0:
            se = math.nan
            how = (f"not fitted: {t.id} measured nothing at this value ({rows[k].simulated:g}"
                   f"), so its parameter has no estimate here; se not known")
        elif unidentified(jac[:, k]):
            se = math.inf
            how = (f"fitted to {t.id} through the simulation (damped Newton steps on CRN runs); "
                   f"not identified here: no fitting figure moves with it at this value (a "
                   f"flat Jacobian column), so any value beyond it fits as well; se infinite")
        else:
            se_x = math.sqrt(cov[k, k]) if np.isfinite(cov[k, k]) and cov[k, k] >= 0 \
                else math.nan
            se = value * se_x if _is_log(path) else se_x
        estimates.append(Estimate(path=path, value=value, se=se, unit=unit_of(path),
                                  method=how))
    return EstimationResult(estimates=estimates, rows=rows, passes=passes, converged=converged,
                            history=history, correlation=_correlation(cov, estimates))


def _correlation(cov: np.ndarray, estimates: list[Estimate]) -> dict[tuple[str, str], float]:
    """Correlation of each pair of estimates with finite standard errors (delta method), by
    (path, path) in file order: the draws of `cqsim uncertainty` keep it."""
    out = {}
    for i, a in enumerate(estimates):
        for j in range(i + 1, len(estimates)):
            b = estimates[j]
            var = cov[i, i] * cov[j, j]
            if math.isfinite(a.se) and math.isfinite(b.se) and np.isfinite(var) and var > 0:
                out[(a.path, b.path)] = float(np.clip(cov[i, j] / math.sqrt(var), -1.0, 1.0))
    return out


def unidentified(column: np.ndarray) -> bool:
    """A parameter no fitting figure moves at its value (every sensitivity below FLAT): the
    delta method would give it a standard error of 0 (the pseudo-inverse drops the direction),
    where the truth is that the figures do not bound it."""
    return bool(np.all(np.abs(column) < FLAT))


def own_slopes(jac: np.ndarray) -> np.ndarray:
    """Each figure's sensitivity to its own parameter, signed (a figure may fall as its
    parameter rises: the ILSTC's value per TEU as the value of time rises) and at least
    MIN_SLOPE in size, so that a flat figure does not send its parameter off in one step."""
    slope = np.diag(jac)
    return np.where(slope < 0, -1.0, 1.0) * np.clip(np.abs(slope), MIN_SLOPE, None)


def _jacobian(plan: Plan, section: MarketSection, paths: list[str], x: np.ndarray,
              y: np.ndarray, fit: list[CalibrationTarget], runner: Runner) -> np.ndarray:
    """d ln(figures) / dx by one CRN-paired run per parameter (forward differences)."""
    jac = np.zeros((len(y), len(paths)))
    for k in range(len(paths)):
        step = STEP if x[k] + STEP <= domain(paths[k])[1] else -STEP   # inside the bounds
        bumped = x.copy()
        bumped[k] += step
        jac[:, k] = (_log_values(_evaluate(plan, _section_at(section, paths, bumped), fit,
                                            runner)) - y) / step
    return np.nan_to_num(jac, nan=0.0, posinf=0.0, neginf=0.0)   # a figure at 0: no slope


def domain(path: str) -> tuple[float, float]:
    """The bounds of a parameter on its estimation scale x, from the Choice field's own
    constraints (a step never leaves what a scenario file may hold; constants within
    +-ASC_LIMIT; a share of empties 0-1)."""
    if share_gateways(path):
        return 0.0, 1.0
    if path.startswith(f"{PREFIX}asc."):
        return -ASC_LIMIT, ASC_LIMIT
    name = path.split(".")[-1]
    field_ = Choice.model_fields.get(name)
    lo, hi = -math.inf, math.inf
    for rule in field_.metadata if field_ is not None and name != "asc" else ():
        for attr, toward in (("gt", math.inf), ("ge", None), ("lt", -math.inf), ("le", None)):
            bound = getattr(rule, attr, None)
            if bound is None:
                continue
            edge = float(bound) if toward is None else math.nextafter(float(bound), toward)
            if attr in ("gt", "ge"):
                lo = max(lo, edge)
            else:
                hi = min(hi, edge)
    if _is_log(path):
        return (math.log(lo) if lo > 0 else -math.inf, math.log(hi))
    return lo, hi


def _section_at(section: MarketSection, paths: list[str], x: np.ndarray) -> MarketSection:
    for p, v in zip(paths, x, strict=True):
        section = set_param(section, p, _from_x(p, float(v)))
    return section


def unit_of(path: str) -> str:
    """The unit an estimate of `path` is written in: utils for a constant, a share of the
    value a day for the revealed time cost, a share for a share of empties; the logit's other
    parameters are pure numbers (scales, ratios, a position)."""
    if share_gateways(path):
        return "share"
    if path.startswith(f"{PREFIX}asc."):
        return "utils"
    return "share/day" if path == f"{PREFIX}revealed_time_cost_per_day" else "-"


def _log_sd(target: CalibrationTarget, row: CalibrationRow, replications: int) -> float:
    """sd of ln(figure): its band read as a 95% interval, plus the sd of the simulated mean,
    its t interval over `replications` divided by that interval's own quantile (read as
    1.96 standard errors, two replications' CI, 12.7 of them, gave 6.5 times the noise)."""
    band = (math.log(target.high) - math.log(target.low)) / (2 * BAND_Z) \
        if target.low > 0 else math.nan
    noise = row.ci95 / t_critical(replications - 1) / row.simulated \
        if row.simulated > 0 and replications > 1 and np.isfinite(row.ci95) else 0.0
    return math.sqrt(band ** 2 + noise ** 2)


def _delta_cov(jac: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Cov(x) = J^-1 Sigma J^-T (pseudo-inverse when J is singular)."""
    inv = np.linalg.pinv(jac)
    return inv @ np.diag(sd ** 2) @ inv.T
