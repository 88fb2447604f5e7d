"""Blending two flows either side of the quota (matcher/quota/blend.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matcher import Instance, Policy
from matcher.candidates import CandidateSet, Pairs
from matcher.chains import PairRuns
from matcher.flow import FlowNetwork
from matcher.quota import QuotaProblem, quota_weights
from matcher.quota.blend import _alternating_pieces, best_blend
from matcher.unit_table import UnitTable
from tests.matcher.references import (
    SETTINGS,
    quotas,
)
from tests.strategies import instances, policies


def assert_within_capacities(
    instance: Instance, policy: Policy, network: FlowNetwork, chosen: np.ndarray
) -> None:
    households = network.pair_household[chosen]
    units = network.pair_unit[chosen]
    assert np.bincount(households, minlength=network.households).max(initial=0) <= 1
    assert np.bincount(units, minlength=network.units).max(initial=0) <= (
        policy.candidates_per_unit
    )
    if policy.max_per_building is not None:
        per_building = Counter(
            instance.units[u].building_id
            for u in units.tolist()
            if instance.units[u].building_id is not None
        )
        assert max(per_building.values(), default=0) <= policy.max_per_building


@SETTINGS
@given(data=st.data())
def test_blending_two_flows_keeps_a_valid_quota_meeting_flow(data: st.DataObject) -> None:
    """Swapping whole pieces of a quota-breaking flow into a quota-meeting one gives a flow
    within every capacity, still meeting the quota, worth at least the meeting flow. (Every
    household-unit pair is a candidate here, with random values: the property is about the
    flows, not the rules, and dense pairs make the two flows differ a lot.)"""
    instance = data.draw(instances())
    policy = replace(
        data.draw(policies(instance, allow_pins=False)), income_quota=data.draw(quotas)
    )
    assert policy.income_quota is not None
    n_h, n_u = len(instance.households), len(instance.units)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    every_pair = CandidateSet(
        Pairs(
            np.repeat(np.arange(n_h, dtype=np.int32), n_u),
            np.tile(np.arange(n_u, dtype=np.int32), n_h),
            rng.integers(0, 1000, n_h * n_u, dtype=np.int32),
        ),
        PairRuns.empty(),
        UnitTable.build(instance, policy).classes,
    )
    network = FlowNetwork.build(instance, policy, every_pair, {}).expanded()
    weights = quota_weights(
        instance, policy.income_quota, network.pair_household, network.pair_unit
    )
    values = 10_000 + network.pair_score.astype(np.int64)
    breaking = network.max_profit(rng.integers(1, 1000, network.pairs))
    meeting = network.max_profit(rng.integers(1, 1000, network.pairs) + 400 * weights)
    if int(weights[meeting].sum()) < 0:
        return  # the quota-minded flow still breaks it: nothing to blend into
    blend = best_blend(
        QuotaProblem(network, values, weights, 0, 10_000), breaking, meeting, 10.0, 0
    )
    blended = blend.chosen
    assert blend.value == int(values[blended].sum()) >= int(values[meeting].sum())
    assert int(weights[blended].sum()) >= 0
    assert_within_capacities(instance, policy, network, blended)
    # Any set of whole pieces, not only the knapsack's, swaps into a valid flow.
    differ = np.flatnonzero(breaking != meeting)
    pieces = _alternating_pieces(network, differ, breaking[differ])
    swapped = np.isin(pieces, rng.choice(pieces, size=pieces.size // 2 + 1) if pieces.size else [])
    mixed = meeting.copy()
    mixed[differ[swapped]] = breaking[differ[swapped]]
    assert_within_capacities(instance, policy, network, mixed)
