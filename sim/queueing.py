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
    1 / (mu (1 - sqrt(rho))^2) at rho = 0.9. inf when unstable."""
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
