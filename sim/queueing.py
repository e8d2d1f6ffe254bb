"""Queueing theory used to check the simulator: closed forms and standard approximations.

All rates are per hour, all times in hours. A queue is described by its arrival rate `lam`,
mean service time `service` (so mu = 1 / service) and `servers` (c).

Sources:
- Erlang C, M/M/c waiting time and utilization: L. Kleinrock, *Queueing Systems, Vol. 1:
  Theory* (Wiley, 1975), section 3.5; D. Gross et al., *Fundamentals of Queueing Theory*,
  4th ed. (Wiley, 2008), section 2.3. Erlang B recursion: ibid., section 2.5.
- Kingman's G/G/1 approximation: J.F.C. Kingman, "The single server queue in heavy
  traffic", Proc. Cambridge Philos. Soc. 57 (1961) 902-904.
- Allen-Cunneen G/G/c approximation: A.O. Allen, *Probability, Statistics, and Queueing
  Theory*, 2nd ed. (Academic Press, 1990), p. 390; W. Whitt, "Approximations for the
  GI/G/m queue", Production and Operations Management 2(2) (1993).
- Tandem (Jackson network) sojourn time: J.R. Jackson, "Networks of waiting lines",
  Operations Research 5(4) (1957) 518-521; Burke's output theorem, Operations Research
  4(6) (1956) 699-704.
- Wait for a scheduled departure under Poisson arrivals (PASTA): R.W. Wolff, "Poisson
  arrivals see time averages", Operations Research 30(2) (1982) 223-231.
- Relaxation time and start-up bias: W. Whitt, "Planning queueing simulations",
  Management Science 35(11) (1989) 1341-1366; P.M. Morse, "Stochastic properties of
  waiting lines", Operations Research 3(3) (1955) 255-261.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def offered_load(lam: float, service: float) -> float:
    """Erlangs a = lam x E[S]: the mean number of busy servers a queue needs."""
    return lam * service


def utilization(lam: float, service: float, servers: int) -> float:
    """rho = lam E[S] / c; the queue is stable only when rho < 1."""
    return offered_load(lam, service) / servers


def erlang_b(servers: int, load: float) -> float:
    """Erlang B blocking probability for `servers` and offered `load` (stable recursion)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Erlang C: probability that an arrival to an M/M/c queue has to wait (1 if unstable)."""
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


def mmc_wait(lam: float, service: float, servers: int) -> float:
    """Mean wait in queue (before service) of an M/M/c queue; inf when unstable."""
    if lam <= 0:
        return 0.0
    load = offered_load(lam, service)
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * service / (servers - load)


def mmc_sojourn(lam: float, service: float, servers: int) -> float:
    """Mean time in an M/M/c queue: wait plus service."""
    return mmc_wait(lam, service, servers) + service


def mmc_in_system(lam: float, service: float, servers: int) -> float:
    """Mean number in an M/M/c queue (Little's law: L = lam W)."""
    return lam * mmc_sojourn(lam, service, servers)


def kingman_wait(lam: float, service: float, ca2: float, cs2: float) -> float:
    """Kingman's G/G/1 mean wait: rho/(1-rho) x (ca^2 + cs^2)/2 x E[S]."""
    rho = utilization(lam, service, 1)
    if rho >= 1:
        return math.inf
    return rho / (1.0 - rho) * (ca2 + cs2) / 2.0 * service


def ggc_wait(lam: float, service: float, servers: int, ca2: float, cs2: float) -> float:
    """Allen-Cunneen G/G/c mean wait: the M/M/c wait scaled by (ca^2 + cs^2)/2.

    Reduces to Kingman's formula for c = 1 and to Erlang C for Poisson arrivals and
    exponential service (ca^2 = cs^2 = 1).
    """
    return mmc_wait(lam, service, servers) * (ca2 + cs2) / 2.0


def jackson_tandem_sojourn(lam: float, services: Sequence[float]) -> float:
    """Mean end-to-end time through M/M/1 queues in series fed by Poisson(lam)."""
    return sum(mmc_sojourn(lam, s, 1) for s in services)


def scheduled_wait(headway: float) -> float:
    """Mean wait for the next departure of a fixed timetable under Poisson arrivals."""
    return headway / 2.0


def squared_cv(total: float, total_sq: float, count: int) -> float:
    """Squared coefficient of variation from a count, sum and sum of squares (NaN if < 2)."""
    if count < 2 or total <= 0:
        return float("nan")
    mean = total / count
    var = max(total_sq / count - mean * mean, 0.0) * count / (count - 1)
    return var / (mean * mean)


def relaxation_time(lam: float, service: float, servers: int, ca2: float, cs2: float) -> float:
    """Hours a queue takes to forget its initial state: 2 lam (ca^2 + cs^2) / (c mu - lam)^2,
    the relaxation time of the reflected Brownian motion approximating it in heavy traffic
    (Whitt 1989). For M/M/1 it gives 4 lam / (mu - lam)^2, within 5% of the exact
    1 / (mu (1 - sqrt(rho))^2) at rho = 0.9. inf when unstable; 0 when service takes no
    time (a zone): nothing ever queues."""
    if service <= 0:
        return 0.0
    drift = servers / service - lam
    if drift <= 0:
        return math.inf
    return 2.0 * lam * (ca2 + cs2) / (drift * drift)


def start_up_bias(relaxation: float, period: float, warmup: float) -> float:
    """Approximate relative bias of a mean taken over `period` hours after `warmup` hours of
    a queue started empty: (tau / period) x exp(-warmup / tau), the share of the period
    still spent relaxing (an exponential approach with time constant tau; Whitt 1989)."""
    if relaxation <= 0:
        return 0.0
    if math.isinf(relaxation) or period <= 0:
        return math.inf
    return relaxation / period * math.exp(-warmup / relaxation)


def warmup_needed(relaxation: float, period: float, tolerance: float) -> float:
    """Warm-up hours that bring `start_up_bias` down to `tolerance` over `period` hours."""
    if math.isinf(relaxation):
        return math.inf
    if relaxation <= 0 or relaxation / period <= tolerance:
        return 0.0
    return relaxation * math.log(relaxation / (tolerance * period))


# ----------------------------------------------------------------------------- batch service
#
# A lock flight is a batch server: a lockage takes up to `batch` waiting vessels and the next
# one may start `cycle` hours later. Sources:
# - N.T.J. Bailey, "On queueing processes with bulk service", J. Royal Statistical Society B
#   16(1) (1954) 80-87: the fixed-cycle bulk server and its embedded chain of customers left
#   behind, L' = max(L + A - b, 0) with A ~ Poisson(lam T).
# - M.L. Chaudhry and J.G.C. Templeton, *A First Course in Bulk Queues* (Wiley, 1983): the
#   general bulk-service rule (a, b); a = 1 is a lock that starts as soon as a vessel waits.
# - D.P. Gaver, "A waiting line with interrupted service, including priorities", J. Royal
#   Statistical Society B 24(1) (1962) 73-90: completion time under preemptive-resume
#   breakdowns, used with the Pollaczek-Khinchine formula for closures.
# - B. Avi-Itzhak and P. Naor, "Some queuing problems with the service station subject to
#   breakdown", Operations Research 11(3) (1963) 303-320: breakdowns that strike an idle
#   server too, as weather stops a lock whether or not vessels wait.
# - G.P. Cosmetatos, "Approximate explicit formulae for the average queueing time in the
#   processes (M/D/r) and (D/M/r)", INFOR 13(3) (1975) 328-331: a gauge-change border.


def _poisson_pmf(mean: float, size: int) -> np.ndarray:
    """P(A = k) for k < size, A ~ Poisson(mean), computed in log space (no overflow)."""
    k = np.arange(size, dtype=float)
    if mean <= 0:
        return (k == 0).astype(float)
    log_fact = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, size, dtype=float)))))
    return np.exp(k * math.log(mean) - mean - log_fact)


def batch_left_distribution(lam: float, cycle: float, batch: int,
                            tail: float = 1e-12) -> np.ndarray:
    """Stationary distribution of the customers a batch server leaves behind at a service
    epoch: Bailey's chain L' = max(L + A - batch, 0), A ~ Poisson(lam x cycle).

    Solved exactly (a linear system) on a truncated state space that is doubled until the
    mass at its edge is below `tail`. Raises ValueError when the server
    is unstable (lam x cycle >= batch).
    """
    if batch < 1 or cycle <= 0 or lam < 0:
        raise ValueError("batch >= 1, cycle > 0 and lam >= 0 are required")
    mean = lam * cycle
    if mean >= batch:
        raise ValueError(f"unstable batch server: lam x cycle = {mean:.3f} >= batch {batch}")
    size = max(64, int(4 * (mean + batch)))
    while True:
        a = _poisson_pmf(mean, size + batch + 1)
        # transition matrix of the chain truncated to 0..size-1 (overflow kept on the edge)
        # from L = l to L' = n >= 1 takes n + batch - l arrivals; to 0 at most batch - l
        states = np.arange(size)
        need = states[None, :] + batch - states[:, None]
        step = np.where(need >= 0, a[np.clip(need, 0, a.size - 1)], 0.0)
        cdf = np.cumsum(a)
        step[:, 0] = np.where(batch - states >= 0, cdf[np.clip(batch - states, 0, None)], 0.0)
        step[:, -1] += 1.0 - step.sum(axis=1)
        # stationary: p (P - I) = 0 with sum(p) = 1 replacing the last balance equation
        system = step.T - np.eye(size)
        system[-1, :] = 1.0
        rhs = np.zeros(size)
        rhs[-1] = 1.0
        p = np.clip(np.linalg.solve(system, rhs), 0.0, None)
        p /= p.sum()
        if p[-batch:].sum() < tail:
            return p
        size *= 2


def _floor_sum(left: np.ndarray, lam: float, cycle: float, batch: int) -> float:
    """E over one cycle of sum over its arrivals of floor((L + j) / batch), j = earlier
    arrivals in the same cycle: sum_m P(A > m) E[floor((L + m) / batch)]."""
    mean = lam * cycle
    size = int(mean + 12 * math.sqrt(mean + 1) + 30)
    survival = 1.0 - np.cumsum(_poisson_pmf(mean, size))     # P(A > m), m = 0..size-1
    ahead = np.convolve(left, np.clip(survival, 0.0, None))  # weight of L + m = k
    k = np.arange(ahead.size)
    return float((ahead * (k // batch)).sum())


def fixed_cycle_wait(lam: float, cycle: float, batch: int) -> float:
    """Mean wait (h) before service at a fixed-cycle batch server (Bailey 1954): a service
    epoch every `cycle` hours takes up to `batch` customers, first come first served.

    A Poisson arrival waits for the end of its cycle (cycle/2 on average) plus one cycle per
    full batch ahead of it: the customers left behind at the last epoch and those that came
    earlier in its own cycle. inf when unstable.
    """
    if lam <= 0:
        return cycle / 2.0
    try:
        left = batch_left_distribution(lam, cycle, batch)
    except ValueError:
        return math.inf
    return cycle / 2.0 + cycle * _floor_sum(left, lam, cycle, batch) / (lam * cycle)


def headway_batch_wait(lam: float, headway: float, batch: int) -> float:
    """Mean wait (h) at a batch server that starts as soon as a customer waits, at least
    `headway` hours after its previous start (the general bulk-service rule with a = 1):
    cqsim's lock flight with equal vessels and no closures.

    The customers left behind at a start follow Bailey's chain too (an idle server starts
    with the one customer that ends the idle time and leaves nobody behind), so per start:
    lam x headway arrivals fall in the headway window and wait as at the fixed-cycle server,
    and with probability P(L = 0) P(A = 0) one more arrives to an idle server and waits 0.
    inf when unstable.
    """
    if lam <= 0:
        return 0.0
    try:
        left = batch_left_distribution(lam, headway, batch)
    except ValueError:
        return math.inf
    mean = lam * headway
    waits = mean * headway / 2.0 + headway * _floor_sum(left, lam, headway, batch)
    return waits / (mean + float(left[0]) * math.exp(-mean))


def breakdown_wait(lam: float, cycle: float, batch: int, closures_per_hour: float,
                   closure_mean: float, closure_second_moment: float) -> float:
    """Mean wait (h) at a batch server interrupted by Poisson closures, as an M/G/1 with
    preemptive-resume breakdowns (Gaver 1962): one customer served every s = cycle/batch h,
    completion time C with E[C] = s (1 + r E[D]) and E[C^2] = E[C]^2 + s r E[D^2];
    Pollaczek-Khinchine gives lam E[C^2] / (2 (1 - lam E[C])), plus cycle/2 for the next
    lockage. Breakdowns there strike only a busy server; `closure_wait` is the better
    approximation for a lock (docs/validation.md). inf when lam E[C] >= 1."""
    s = cycle / batch
    completion = s * (1.0 + closures_per_hour * closure_mean)
    second = completion * completion + s * closures_per_hour * closure_second_moment
    load = lam * completion
    if load >= 1.0:
        return math.inf
    return cycle / 2.0 + lam * second / (2.0 * (1.0 - load))


def closure_wait(lam: float, cycle: float, batch: int, closures_per_hour: float,
                 closure_mean: float, closure_second_moment: float) -> float:
    """Approximate mean wait (h) at a fixed-cycle batch server that Poisson closures stop,
    busy or idle (the model of Avi-Itzhak and Naor 1963, Operations Research 11(3)).

    Decomposed as in vacation models: the exact fixed-cycle wait at the load inflated by
    the availability A = 1 / (1 + r E[D]), plus the residual closure an arrival meets,
    r E[D^2] / 2, stretched by the backlog it leaves, 1 / (1 - rho_eff) with
    rho_eff = lam cycle / (batch A). Within 5% of simulation for closures spread over the
    year at rho_eff 0.79-0.94 (docs/validation.md); seasonal, clustered closures wait
    longer. inf when rho_eff >= 1.
    """
    availability = 1.0 / (1.0 + closures_per_hour * closure_mean)
    rho_eff = lam * cycle / (batch * availability)
    if rho_eff >= 1.0:
        return math.inf
    base = fixed_cycle_wait(lam / availability, cycle, batch)
    return base + closures_per_hour * closure_second_moment / (2.0 * (1.0 - rho_eff))


def clearing_time(closure_hours: float, utilization: float) -> float:
    """Hours a queue takes to clear after a closure of `closure_hours` (fluid model): the
    backlog lam D drains at mu - lam, so D rho / (1 - rho). inf when rho >= 1."""
    if utilization >= 1.0:
        return math.inf
    return closure_hours * utilization / (1.0 - utilization)


def lognormal_moments(median: float, sigma: float) -> tuple[float, float]:
    """(E[D], E[D^2]) of a lognormal duration with the given median and log-sd sigma."""
    return median * math.exp(sigma * sigma / 2.0), median * median * math.exp(2.0 * sigma * sigma)


def mdc_wait(lam: float, service: float, servers: int) -> float:
    """Approximate mean wait of an M/D/c queue (Cosmetatos 1975): half the M/M/c wait times
    a correction, 1 + (1 - rho)(c - 1)(sqrt(4 + 5c) - 2) / (16 rho c). Exact for c = 1."""
    if lam <= 0:
        return 0.0
    rho = utilization(lam, service, servers)
    if rho >= 1:
        return math.inf
    c = servers
    correction = 1.0 + (1.0 - rho) * (c - 1) * (math.sqrt(4.0 + 5.0 * c) - 2.0) / (16.0 * rho * c)
    return 0.5 * mmc_wait(lam, service, servers) * correction


def priority_fixed_cycle_waits(lams: Sequence[float], cycle: float,
                               batch: int) -> list[float]:
    """Mean wait (h) per class at a fixed-cycle batch server that fills each batch in
    priority order (class 0 first), first come first served within a class. Exact: classes
    0..k ignore every lower class, so together they form a fixed-cycle server of rate
    L_k = lam_0 + ... + lam_k whose number waiting, and so (Little) total wait L_k W(L_k), does
    not depend on the order inside the group; class k's wait is the difference
    (L_k W(L_k) - L_{k-1} W(L_{k-1})) / lam_k. inf for classes beyond stability."""
    out: list[float] = []
    below = 0.0          # L_{k-1} W(L_{k-1})
    total = 0.0
    for lam in lams:
        total += lam
        work = total * fixed_cycle_wait(total, cycle, batch)
        out.append((work - below) / lam if lam > 0 else fixed_cycle_wait(total, cycle, batch))
        below = work
    return out
