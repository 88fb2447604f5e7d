"""An assignment with the income quota's row as a mixed-integer program, solved by HiGHS.

The quota round's flow structure (one household, one place on a unit, a building's cap) is
totally unimodular; the quota adds one row that is not, so the LP relaxation is nearly
integral and its bound does the proving. Measured on the demo round with 25% under 8,000 EUR:
CP-SAT on one worker (for determinism) stopped at 60 s on the 1,331 pairs reduced-cost fixing
left, unproven and 10 points short, because that worker keeps only a light linear relaxation
(with `linearization_level` 2 it proves them in 0.3 s); HiGHS proves them in 0.4 s. On the
27,000 pairs left at 600 x 600 with a quota hard to prove, HiGHS takes 9 s and CP-SAT (level
2) was still unproven at 60 s.

The caller chooses the variables (every pair, or the pairs reduced-cost fixing leaves free)
and passes what the fixed pairs already use as offsets.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import highspy

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class AssignmentMip:
    """One binary variable per pair: maximise sum(value x) such that each household takes at
    most one pair (exactly one where `must_house`), each unit at most its places left, each
    capped building at most its places left, sum(quota x) >= quota_floor and the number of
    pairs taken lies in [least_housed, most_housed]."""

    households: NDArray[np.integer[Any]]  # per variable, its household
    units: NDArray[np.integer[Any]]
    values: IntArray
    quota: IntArray
    quota_floor: int
    unit_places: IntArray  # per unit of the round
    building_of_unit: IntArray  # per unit, -1: no capped building
    building_places: IntArray
    must_house: BoolArray  # per household of the round
    least_housed: int
    most_housed: int

    @classmethod
    def whole_round(
        cls,
        pairs: tuple[NDArray[np.integer[Any]], NDArray[np.integer[Any]], NDArray[np.integer[Any]]],
        quota: IntArray,
        unit_places: IntArray,
        building_of_unit: IntArray,
        building_places: IntArray,
        households: int,
    ) -> tuple[AssignmentMip, int]:
        """Every pair (households, units, scores) a variable, each household housed worth
        more than any score difference (the returned big-M, added to each pair's value):
        the round's lexicographic objective in one MIP, for peers and tests."""
        pair_households, pair_units, scores = pairs
        big_m = int(scores.max(initial=0)) * (households + 1) + 1
        model = cls(
            households=pair_households,
            units=pair_units,
            values=scores.astype(np.int64) + big_m,
            quota=quota,
            quota_floor=0,
            unit_places=unit_places,
            building_of_unit=building_of_unit,
            building_places=building_places,
            must_house=np.zeros(households, dtype=np.bool_),
            least_housed=0,
            most_housed=households,
        )
        return model, big_m


@dataclass(frozen=True, slots=True)
class MipOutcome:
    chosen: BoolArray | None  # the best assignment found (None: none found)
    optimal: bool  # proven optimal (or proven infeasible when chosen is None)
    infeasible: bool
    bound: float  # upper bound on the objective (inf when nothing is known)


def _group_rows(keys: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Row-wise entries grouping the variables by key: the keys of the rows, where each row
    starts, and the variables, row by row."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    firsts: IntArray = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return sorted_keys[firsts], firsts.astype(np.int64), order.astype(np.int64)


_banner_shown = False


def _highs() -> highspy.Highs:
    """A silent HiGHS. Its first instance in a process prints a banner on standard output
    from C++, before any option can be set; `housing-match solve` writes its JSON there, so
    that first construction runs with standard output sent to /dev/null."""
    import highspy  # loaded by the rounds that need it: it takes 0.1 s

    global _banner_shown
    if _banner_shown:
        solver = highspy.Highs()  # type: ignore[no-untyped-call]
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                solver = highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
    solver.silent()
    return solver


def solve_assignment_mip(
    model: AssignmentMip, start: BoolArray | None, time_limit_s: float, seed: int
) -> MipOutcome:
    """The best assignment of the model, by HiGHS, started from `start` if given (a feasible
    assignment, which HiGHS then only has to beat or prove optimal)."""
    import highspy

    n = int(model.values.size)
    if n == 0:
        feasible = model.least_housed <= 0 <= model.most_housed and model.quota_floor <= 0
        feasible &= not model.must_house.any()
        return MipOutcome(np.zeros(0, dtype=np.bool_) if feasible else None, True, not feasible, 0)
    households = np.asarray(model.households, dtype=np.int64)
    units = np.asarray(model.units, dtype=np.int64)
    starts: list[IntArray] = []
    indices: list[IntArray] = []
    coefficients: list[NDArray[np.float64]] = []
    lower: list[NDArray[np.float64]] = []
    upper: list[NDArray[np.float64]] = []
    offset = 0

    def add_groups(keys: IntArray, row_lower: NDArray[Any], row_upper: NDArray[Any]) -> None:
        nonlocal offset
        row_keys, firsts, order = _group_rows(keys)
        starts.append(firsts + offset)
        indices.append(order)
        coefficients.append(np.ones(order.size))
        lower.append(np.asarray(row_lower[row_keys], dtype=np.float64))
        upper.append(np.asarray(row_upper[row_keys], dtype=np.float64))
        offset += order.size

    add_groups(households, model.must_house.astype(np.int64), np.ones(model.must_house.size))
    add_groups(units, np.zeros(model.unit_places.size), model.unit_places)
    buildings = model.building_of_unit[units]
    capped = np.flatnonzero(buildings >= 0)
    if capped.size:
        row_keys, firsts, order = _group_rows(buildings[capped])
        starts.append(firsts + offset)
        indices.append(capped[order])
        coefficients.append(np.ones(order.size))
        lower.append(np.zeros(row_keys.size))
        upper.append(model.building_places[row_keys].astype(np.float64))
        offset += order.size
    inf = highspy.kHighsInf
    for row_values, low, high in (
        (model.quota.astype(np.float64), float(model.quota_floor), inf),
        (np.ones(n), float(model.least_housed), float(model.most_housed)),
    ):
        nonzero = np.flatnonzero(row_values)
        starts.append(np.array([offset], dtype=np.int64))
        indices.append(nonzero)
        coefficients.append(row_values[nonzero])
        lower.append(np.array([low]))
        upper.append(np.array([high]))
        offset += nonzero.size

    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = int(sum(s.size for s in starts))
    lp.col_cost_ = model.values.astype(np.float64)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.concatenate(lower)
    lp.row_upper_ = np.concatenate(upper)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = np.r_[np.concatenate(starts), offset].astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate(indices).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate(coefficients)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n

    solver = _highs()
    solver.setOptionValue("time_limit", max(time_limit_s, 0.01))
    solver.setOptionValue("random_seed", seed)
    solver.setOptionValue("threads", 1)  # deterministic, and the machine has two cores
    # HiGHS stops at a relative gap of 1e-4 by default: on a demo round that is 10 points of
    # 282,067, and it called 282,057 optimal. Objectives are integers: a gap under 1 is zero.
    solver.setOptionValue("mip_rel_gap", 0.0)
    solver.setOptionValue("mip_abs_gap", 0.99)
    if start is not None:
        # HiGHS 1.16 with presolve on, given a start, called the start optimal on a round
        # where a better assignment was feasible (tests/test_mip.py has it). Without presolve
        # it proves the best, and the quota's hard gaps closed faster (600 x 600: 2 s, not 8).
        solver.setOptionValue("presolve", "off")
    solver.passModel(lp)
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = start.astype(np.float64).tolist()
        solution.value_valid = True
        solver.setSolution(solution)
    solver.run()
    status = solver.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return MipOutcome(None, True, True, -np.inf)
    info = solver.getInfo()
    has_solution = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    chosen = None
    if has_solution:
        chosen = np.asarray(solver.getSolution().col_value) > 0.5
    optimal = status == highspy.HighsModelStatus.kOptimal
    bound = float(info.mip_dual_bound) if not optimal else float(model.values[chosen].sum())
    return MipOutcome(chosen, optimal, False, bound)
