"""The warm network simplex (matcher/simplex.py) against OR-tools' min-cost flow."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from matcher import Household, Instance, Policy, Unit
from matcher.candidates import generate_candidates
from matcher.flow import FlowNetwork, SolverError
from matcher.simplex import WarmSimplex
from matcher.unit_table import UnitTable
from tests.matcher.references import SETTINGS
from tests.strategies import ROUND_DATE, competing_rounds


@SETTINGS
@given(data=st.data())
def test_warm_solves_are_as_good_as_cold_ones(data: st.DataObject) -> None:
    """Solve after solve with new profits (as the quota's search does), every flow the
    simplex returns is within capacities and worth exactly OR-tools' best, on flows of any
    size and of a fixed size; and its duals prove OR-tools' flow optimal."""
    instance, policy = data.draw(competing_rounds())
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    network = FlowNetwork.build(instance, policy, candidates, {}).expanded()
    assume(network.pairs)
    if data.draw(st.booleans()):
        network = network.of_size(network.max_flow_min_cost().size)
    event("fixed size" if network.size is not None else "any size")
    simplex = WarmSimplex(network)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(data.draw(st.integers(1, 4))):
        profits = rng.integers(-500, 1000, network.pairs)
        chosen = simplex.max_profit(profits)
        best = network.max_profit(profits)
        assert int(profits[chosen].sum()) == int(profits[best].sum())
        assert (np.bincount(network.pair_household[chosen], minlength=1) <= 1).all()
        assert (
            np.bincount(network.pair_unit[chosen], minlength=network.units) <= network.unit_capacity
        ).all()
        if network.size is not None:
            assert int(chosen.sum()) == network.size
        simplex.reduced_costs(profits, best)  # raises unless they prove it optimal


def test_duals_refuse_a_flow_that_is_not_optimal() -> None:
    """Reduced costs are checked against the flow they are asked to prove: an empty flow,
    where housing someone pays, is refused."""
    household = Household(id="h", adults=1, monthly_resources_eur=1500, registered_on=ROUND_DATE)
    unit = Unit(
        id="u", lat=45.78, lon=3.08, rooms=1, surface_m2=28, rent_eur=300, available_from=ROUND_DATE
    )
    instance, policy = Instance((household,), (unit,)), Policy(round_date=ROUND_DATE)
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    network = FlowNetwork.build(instance, policy, candidates, {}).expanded()
    assert network.pairs
    profits = np.full(network.pairs, 100, dtype=np.int64)
    with pytest.raises(SolverError, match="not optimal"):
        WarmSimplex(network).reduced_costs(profits, np.zeros(network.pairs, dtype=np.bool_))
