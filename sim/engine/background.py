"""Background traffic: the other users of a hub, as a Poisson stream of anonymous jobs.

Ports, borders and terminals serve far more than Chongqing's freight; their capacity binds
only if that traffic is there. A background job (a train, a vessel call, a truck) takes the
hub's yard and a handling position like tracked freight (a gauge-change position at a
border) but carries no lots, so conservation of tracked freight is unaffected; the hub
counts its TEU apart (`background_teu_per_year` in hubs.csv). A job that would wait longer
than its spec's `diverts_after_hours` (`Hub.expected_wait`: a stop's announced end, then the
queue ahead) goes elsewhere (a liner omits the call) and is counted as diverted; without it,
a job waits however long (trains held at a border).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

from sim.engine.component import Component
from sim.engine.loop import Poisson, begin
from sim.rng import draws
from sim.specs import BackgroundTraffic
from sim.units import HOURS_PER_YEAR, relative_season

if TYPE_CHECKING:
    from sim.engine.model import Model


@mypyc_attr(allow_interpreted_subclasses=True)
class Background(Component):
    """The background stream of one hub: jobs arrive at the spec's yearly rate times the
    month's seasonal factor (a non-homogeneous Poisson process, piecewise constant by
    month), from the stream `background:<hub>`."""

    def __init__(self, model: Model, spec: BackgroundTraffic) -> None:
        super().__init__(model)
        self.spec = spec
        self.hub = model.hubs[spec.hub]
        factors = spec.seasonality if spec.seasonality is not None else model.plan.seasonality
        rng = self.stream(f"background:{spec.hub}")
        self._clock = Poisson(model.env, spec.jobs_per_year / HOURS_PER_YEAR,  # at factor 1
                              relative_season(factors),
                              draws(rng.standard_exponential), self._arrive)
        self._coin = draws(rng.random)      # direction of a `both` job, outbound if < 0.5
        self._direction = spec.direction    # the spec's, read at every job
        self._batch_teu = spec.batch_teu
        # a job that would wait longer than this goes elsewhere; none: it waits however long
        self._patience = spec.diverts_after_hours

    def start(self) -> None:
        begin(self.env, self._clock.next)

    def _arrive(self, _event: object) -> None:
        direction = self._direction
        outbound = direction == "outbound" or (direction == "both" and self._coin() < 0.5)
        patience = self._patience
        if patience is not None and \
                self.hub.expected_wait(self._batch_teu, outbound) > patience:
            self.hub.divert_background(self._batch_teu)
        else:
            self.hub.receive_background(self._batch_teu, outbound)
        self._clock.next()
