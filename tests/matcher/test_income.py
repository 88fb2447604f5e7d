"""Resources per consumption unit and the low-income line (matcher/income.py)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import IncomeQuota
from matcher.income import annual_resources_per_unit, is_low_income, with_threshold
from tests.strategies import instances


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_first_quartile_quota_counts_the_poorest_quarter(data: st.DataObject) -> None:
    """The households a first-quartile quota counts as low-income are the ceil(n / 4) with
    the least resources per consumption unit, and any tied with the last of them: counted
    here by ranking, not through the threshold it resolves to."""
    instance = data.draw(instances(min_households=1))
    quota = with_threshold(IncomeQuota(0.25, first_quartile=True), instance.households)
    ranked = sorted(annual_resources_per_unit(h) for h in instance.households)
    last = ranked[math.ceil(len(ranked) / 4) - 1]
    expected = {h.id for h in instance.households if annual_resources_per_unit(h) <= last}
    assert {h.id for h in instance.households if is_low_income(h, quota)} == expected
