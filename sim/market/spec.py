"""The scenario's `market:` section: the market table, the Chongqing origin zone, the hub that
stands for each partner market, the gateways, and the choice parameters.

The routes of a gateway ride at least one service of its `corridors`, otherwise only services
of those, of its `onward` corridors (the Trans-Siberian after the sea to Vladivostok) and
feeders; when `via` is given, they pass one of the `via` hubs and none of the `via` hubs of
another gateway that shares a corridor with it (so `coastal` via Ningbo and via Yantian are
two gateways); when `home` is given, they get on or off their own corridors at one of its
hubs (a city's own trains, not another city's reached by a feeder). A route that another
gateway of the flow also offers (the same services but for feeders) is an input error: one
way of shipping is one alternative. With no gateways given, each corridor is one. Choice
parameters left out are read from the estimates file (`estimates`), else take the defaults
below.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from sim.specs import CommodityClass, Corridor, FieldError, FlowClass, Printable, Spec
from sim.units import HOURS_PER_DAY

ASC_LIMIT = 50.0   # utils: see Choice.asc


class Gateway(Spec):
    """Which routes a gateway is: by their corridor and, optionally, a hub they pass."""

    corridors: tuple[Corridor, ...] = Field(
        min_length=1, description="its own corridors: each route rides a service of one")
    onward: tuple[Corridor, ...] = Field(
        (), description="corridors its routes may go on by, but not ride alone (the "
                        "Trans-Siberian after the sea to Vladivostok)")
    via: tuple[str, ...] = Field((), description="hub ids; a route must pass one (none: any)")
    home: tuple[str, ...] = Field(
        (), description="hub ids, the gateway's home terminals; a route gets on or off its "
                        "own corridors at one (none: anywhere), so a city's own trains are "
                        "not reached by a feeder to another city's")
    label: Printable = Field("", description="for people (tables, docs)")


class Choice(Spec):
    """Nested logit (nest = gateway) on generalized cost per TEU as a share of the value:

        V_r = -cost_scale x GC_r / value_per_teu            (route r of gateway g)
        GC_r = tariff + transfers + VOT_c x (hours + learnt delay)
               + reliability_ratio x VOT_c x (standard deviation of transit, learnt)
        VOT_c = inventory_c^(1 - theta) x revealed_c^theta  (class c; `value_of_time`)
        P(r) = P(g) P(r | g),  P(r | g) = exp(V_r / mu) / sum exp(V_s / mu)
        P(g) = exp(asc_g + mu I_g) / sum_h exp(asc_h + mu I_h),  I_g = ln sum exp(V_r / mu)
    """

    cost_scale: float = Field(
        100.0, gt=0, le=1e5,
        description="logit scale on generalized cost as a share of the goods' value (1/share). "
                    "assumption: 100 (a gateway dearer by 1% of the value is chosen e^-1 as "
                    "often; a route within its gateway e^(-1/nest_scale)); varied in cqsim "
                    "uncertainty; see docs/modelling.md")
    nest_scale: float = Field(
        0.7, gt=0, le=1.0,
        description="mu, the dissimilarity of routes within a gateway (1 = multinomial logit); "
                    "mkt_nesting_china_ports / seeds/uncertain-parameters.csv nest_scale_gateway: "
                    "assumption 0.7 (range 0.4-1.0)")
    vot_position: float = Field(
        0.0, ge=0, le=1,
        description="theta, where each class's value of time lies between its inventory "
                    "cost (0: demand.classes' value_of_time_cny_per_teu_hour, a lower bound) "
                    "and the revealed time cost (1: revealed_time_cost_per_day of its value), "
                    "on a log scale; an assumption, varied by cqsim uncertainty "
                    "(docs/modelling.md)")
    revealed_time_cost_per_day: float = Field(
        0.006, gt=0, le=0.1,
        description="share of the goods' value a day in transit costs, as revealed by the "
                    "choice between air and sea: mkt_hummels_schaur_2013, 0.6-2.1%/day; the "
                    "low end, as their estimate is for US imports, air against ocean")
    reliability_ratio: float = Field(
        1.0, ge=0, le=10,
        description="value of an hour of standard deviation of transit time over an hour "
                    "of mean time (the definition of its source); mkt_reliability_ratio: "
                    "assumption 1.0 (range 0.5-1.5)")
    # assumption: a constant beyond +-50 utils (a factor of e^50, 5e21) no longer weighs a
    # gateway but says always or never, and a drawn one that large (an absurd standard
    # error) would empty or flood the market's routes partway through a study
    asc: dict[str, Annotated[float, Field(ge=-ASC_LIMIT, le=ASC_LIMIT)]] = Field(
        default_factory=dict,
        description="alternative-specific constant per gateway (utils, within +-50; absent = "
                    "0); `<gateway>@<market>` adds a market-specific constant, "
                    "`<gateway>#<class>` a class-specific one")
    trade_elasticity: float = Field(
        4.5, ge=0, le=20,
        description="sigma of V = V0 ((p + GC) / (p + GC0))^-sigma per market x class x "
                    "direction, GC the logsum cost; mkt_trade_elasticity_sw2014 / _hs6 / "
                    "_hm2014: 4.5 (range 3-6)")

    def value_of_time(self, cls: CommodityClass) -> float:
        """A class's value of time in route choice, CNY/TEU-h: its inventory cost raised
        toward the revealed time cost of its own value by `vot_position` (one position for
        every class, so laptops and chemicals are each weighed against their own evidence;
        a single multiplier of the inventory cost would take its range from electronics and
        leave the other classes at a quarter of theirs)."""
        low = cls.value_of_time_cny_per_teu_hour
        high = max(low, cls.value_cny_per_teu * self.revealed_time_cost_per_day
                   / HOURS_PER_DAY)
        theta = self.vot_position
        if theta == 0.0 or low == high:
            return low      # exactly the inventory cost (no rounding of a power)
        return float(low ** (1.0 - theta) * high ** theta)


class EmptyLane(Spec):
    """Where empty boxes are repositioned: one gateway's services between a hub in China and
    hubs abroad. Each gateway balances its own boxes (its loaded routes set the imbalance and
    its empties ride them), so one gateway's empties never crowd another's trains."""

    gateway: str = Field(min_length=1, description="gateway (of market.gateways) whose loaded "
                                                   "routes count and whose services the "
                                                   "empties ride")
    china: str = Field(min_length=1, description="hub id of the depot in China (on the routes)")
    abroad: tuple[str, ...] = Field(min_length=1, description="hub ids of the ends abroad")
    repositioned_share: float | None = Field(None, ge=0, le=1, description="this lane's share "
                                             "of its imbalance that goes back empty (none: "
                                             "the section's repositioned_share)")
    source: str | None = Field(None, min_length=1, description="where this lane's own share "
                                                               "comes from")

    @model_validator(mode="after")
    def _share_sourced(self) -> EmptyLane:
        if self.repositioned_share is not None and self.source is None:
            raise ValueError("a source for the lane's own repositioned_share")
        if self.china in self.abroad:   # its empties would be flows from a hub to itself
            raise ValueError(f"ends abroad other than the depot in China ({self.china})")
        return self


class Empties(Spec):
    """Empty boxes: where a lane's loaded TEU one way exceed those the other way, a share of
    the difference goes back empty on the lane's gateway (the rest are one-way boxes: sold,
    leased off-hire, or repositioned by other means). Sized from the loaded flows the settled
    choice sends each way (`sim.market.empties`)."""

    commodity: str = Field("empty", description="class of demand.classes of an empty box "
                                                "(value 0, its tare tonnes)")
    repositioned_share: float = Field(ge=0, le=1, description="share of the imbalance that "
                                                              "goes back empty, on every lane "
                                                              "that gives none of its own")
    lanes: tuple[EmptyLane, ...] = Field(min_length=1)
    from_classes: tuple[FlowClass, ...] = Field(
        ("trade", "domestic", "transit", "chengdu"), min_length=1,
        description="flow classes whose loaded boxes set the imbalance; leave out a class "
                    "whose input TEU were sized from a count of all boxes, empties included "
                    "(it already carries its own)")
    source: str = Field(min_length=1)

    @field_validator("from_classes")
    @classmethod
    def _loaded_classes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if "empty" in v:
            raise ValueError("loaded flow classes only (not empty)")
        return v

    def share_of(self, lane: EmptyLane) -> float:
        """The share of `lane`'s imbalance that goes back empty: its own, else the section's."""
        return self.repositioned_share if lane.repositioned_share is None \
            else lane.repositioned_share

    @model_validator(mode="after")
    def _pairs_once(self) -> Empties:
        pairs = [(lane.gateway, lane.china, end) for lane in self.lanes for end in lane.abroad]
        if len(set(pairs)) < len(pairs):
            raise ValueError("each (gateway, china, abroad) in one lane only")
        return self


class MarketSection(Spec):
    """Chongqing's trade by market, class and direction, and how shippers reach the markets."""

    table: str = Field(description="market table CSV (market, direction, commodity, "
                                   "value_bn_cny_per_year, source[, teu_per_year, note]: "
                                   "other columns are not read, with a warning), relative to the "
                                   "scenario file naming it")
    origin: str = Field(min_length=1, description="hub id of Chongqing's shippers (the zone)")
    ends: dict[str, str] = Field(min_length=1, description="market -> hub id that stands for it")
    labels: dict[str, Printable] = Field(default_factory=dict,
                                   description="market -> what it is, for people (markets.csv, "
                                               "the report); a market of `ends`")
    gateways: dict[str, Gateway] = Field(default_factory=dict,
                                         description="gateway name -> which routes it is")
    not_simulated: dict[str, str] = Field(
        default_factory=dict,
        description="class -> source: trade of these classes is not carried by simulated "
                    "routes (e.g. bulk, pipelines) and is reported on its own line")
    routes_per_gateway: int = Field(2, ge=1, le=10,
                                    description="candidate routes kept per gateway and flow")
    choice: Choice = Choice()
    empties: Empties | None = Field(None, description="empty boxes repositioned (none: not "
                                                      "simulated)")
    estimates: str | None = Field(None, description="estimates file (YAML) written by `cqsim "
                                                    "calibrate --estimate`, relative to the "
                                                    "scenario file naming it")

    @model_validator(mode="after")
    def _checked(self) -> MarketSection:
        if self.origin in self.ends.values():
            raise ValueError("origin must differ from every market's end hub")
        seen: dict[str, str] = {}
        for market, hub in self.ends.items():   # a flow is known by its ends: one market each
            if hub in seen:
                raise FieldError(f"ends.{market}", f"a hub no other market ends at ({seen[hub]} "
                                 "ends there: their flows, logsums and induced trade would "
                                 "mix)", hub)
            seen[hub] = market
        for market in self.labels:
            if market not in self.ends:
                raise FieldError(f"labels.{market}", f"a market of ends "
                                 f"({', '.join(self.ends)})", market)
        if self.gateways and self.empties is not None:
            for i, lane in enumerate(self.empties.lanes):
                if lane.gateway not in self.gateways:
                    raise FieldError(f"empties.lanes.{i}.gateway", f"one of market.gateways "
                                     f"({', '.join(self.gateways)})", lane.gateway)
        return self
