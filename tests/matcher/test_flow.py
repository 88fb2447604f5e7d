"""The flow network (matcher/flow.py): chained flows worth the pairs' best, regrets that bound."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matcher import IncomeQuota, duals
from matcher.candidates import generate_candidates
from matcher.flow import FlowNetwork
from matcher.quota import quota_weights
from matcher.simplex import WarmSimplex
from matcher.unit_table import UnitTable
from tests.matcher.references import SETTINGS, always_chained, blocks
from tests.strategies import competing_rounds, policies


@SETTINGS
@given(data=st.data())
def test_regrets_never_overstate_the_cost_of_flipping_a_pair(data: st.DataObject) -> None:
    """Forcing a pair out of (or into) the best flow (OR-tools') loses at least the pair's
    regret (from the network simplex's duals): what makes fixing pairs by regret safe when
    the quota's gap is closed. On competing rounds,
    so that about 90% of examples drawn have pairs (26% before); the rest are rejected."""
    instance, policy = data.draw(competing_rounds())
    policy = replace(policy, pinned_pairs=frozenset())
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    network = FlowNetwork.build(instance, policy, candidates, {}).expanded()
    assume(network.pairs)
    if data.draw(st.booleans()):  # among flows housing as many as the round can
        network = network.of_size(network.max_flow_min_cost().size)
    profits = 1000 + network.pair_score.astype(np.int64)
    chosen = network.max_profit(profits)
    best = int(profits[chosen].sum())
    simplex = WarmSimplex(network)
    if data.draw(st.booleans()):  # warm, from a solve at other profits
        simplex.max_profit(data.draw(st.integers(0, 2**31)) % 997 + profits)
    regrets = duals.regrets(network, simplex.reduced_costs(profits, chosen), chosen).pairs
    pair = data.draw(st.integers(0, network.pairs - 1))
    forced = profits.copy()
    forced[pair] = -(10**9) if chosen[pair] else 10**9  # out, or in
    flipped = network.max_profit(forced)
    if flipped[pair] == chosen[pair]:
        assert network.size is not None  # no flow of that size flips it: nothing to bound
        return
    assert best - int(profits[flipped].sum()) >= regrets[pair]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_chained_flow_is_worth_exactly_the_best_flow_of_the_pairs(data: st.DataObject) -> None:
    """For the profits the quota's search uses (score and a multiplier on the quota), of
    either size model, the chained network's best flow stands for pairs that form a valid
    flow worth exactly the best flow over one arc per pair. Profits that differ within a
    chain's step fall back to one arc per pair, still exact. About 95% of the competing
    rounds drawn have something to chain (61% before); the rest are rejected."""
    instance, _ = data.draw(competing_rounds(16, 12, chainable=True))
    income_quota = IncomeQuota(0.5, data.draw(st.sampled_from([6000.0, 12000.0])))
    # The quota's rounds split profiles at the priority-neighbourhood line, so their runs
    # hold the quota's term alike.
    policy = replace(data.draw(policies(instance)), income_quota=income_quota)
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    compact = FlowNetwork.build(instance, policy, candidates, {}, always_chained(data.draw(blocks)))
    assume(compact.chained is not None)  # some household without a place has a unit
    network = compact.expanded()
    pairs = replace(network, chained=None)
    chosen = compact.max_flow_min_cost()
    households, units = compact.pairs_at(chosen)
    assert (households == network.pair_household[chosen]).all()
    assert (units == network.pair_unit[chosen]).all()
    best = pairs.max_flow_min_cost()
    assert chosen.size == best.size
    assert network.pair_score[chosen].sum() == network.pair_score[best].sum()
    if data.draw(st.booleans()):
        network, pairs = network.of_size(chosen.size), pairs.of_size(chosen.size)
    q = quota_weights(instance, income_quota, network.pair_household, network.pair_unit)
    profits = 1000 + network.pair_score.astype(np.int64) + data.draw(st.integers(0, 300)) * q
    assert network.chained is not None
    assert network.chained.chains.run_profits(profits) is not None  # the chains stand for them
    if data.draw(st.integers(0, 4)) == 0:  # profits no chain can stand for
        profits += np.random.default_rng(0).integers(0, 50, network.pairs)
    flow = network.max_profit(profits)
    assert int(profits[flow].sum()) == int(profits[pairs.max_profit(profits)].sum())
    assert np.bincount(network.pair_household[flow]).max(initial=0) <= 1
    unit_capacity = network.unit_capacity
    load = np.bincount(network.pair_unit[flow], minlength=network.units)
    assert (load <= unit_capacity).all()
