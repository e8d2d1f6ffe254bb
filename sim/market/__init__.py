"""The market model: Chongqing's goods trade by partner market, class and direction, carried
by competing gateways chosen by a nested logit on generalized cost, with trade induced by
cheaper access (`docs/modelling.md`, "The market model").

- `sim.market.spec`: the scenario's `market:` section (validated) and its choice parameters;
- `sim.market.table`: the market table (CSV) read at the input boundary, turned into flows;
- `sim.market.choice`: gateways of routes, nested-logit probabilities, logsums, induced trade;
- `sim.market.empties`: the empty boxes each lane repositions, sized from its loaded imbalance;
- `sim.market.estimates`: the estimates file the scenario reads and `cqsim calibrate
  --estimate` writes;
- `sim.market.estimation`: the estimation procedure run through the simulation.
"""
