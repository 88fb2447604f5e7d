"""Benchmark: our matcher against its peers, side by side in one process run.

    python -m bench.run [--sizes 1000,5000,10000] [--national 10000,50000] [--cpsat-limit 20]

For each instance: our end-to-end time (JSON text in -> JSON text out, with candidate
generation, solve and explanations), then on the same feasible pairs: greedy by priority (what
is done by hand today), deferred acceptance (households propose, units prefer priority), CP-SAT
on the same model, and scipy's linear_sum_assignment on the dense matrix where it fits.
Peak memory is the process's peak resident set, reset before each peer (Linux clear_refs).
Writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from bench.docs import DOCS, kept_blocks, machine
from bench.instances import make_round
from matcher.candidates import CandidateSet, Pairs, generate_candidates
from matcher.chains import ChainLayout, PairRuns
from matcher.explain import priorities
from matcher.flow import FlowNetwork
from matcher.greedy import by_priority
from matcher.mip import AssignmentMip, solve_assignment_mip
from matcher.quota import quota_weights
from matcher.types import Instance, Policy, Tuning
from matcher.unit_table import UnitTable
from services.clock import SYSTEM_CLOCK
from services.geocoding import GazetteerGeocoder, load_gazetteer
from services.roundfile import parse_round, solve_round_text, to_instance, to_policy
from services.settings import Settings

# The French rule (25% under about 10,000 EUR per consumption unit) does not bind on refugee
# households, most of whom are under it, so the benchmark uses a quota that does: half of the
# matches outside priority neighbourhoods to households under 8,000 EUR.
QUOTA = {"share": 0.5, "threshold_eur_per_consumption_unit": 8_000.0}
# Rounds where the quota's last gap is hard to close (measured: at 40% under 8,000 EUR the
# Lagrangian flow leaves 27,000 to 70,000 pairs free at 600 and 1,000 households), for the
# target of proving every quota round up to 1,000 x 1,000 optimal, HiGHS alone beside us.
PROOF_QUOTA = {"share": 0.4, "threshold_eur_per_consumption_unit": 8_000.0}
PROOF_SIZES = (600, 1000)


def reset_peak_memory() -> None:
    """Hand freed memory back to the system, then restart the peak from the current size.
    Elsewhere than Linux/glibc the peak covers the whole run so far."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Outcome:
    method: str
    seconds: float
    peak_mb: float
    matched: int
    urgent_matched: int
    objective: int
    optimal: str
    note: str = ""


class PairScores:
    """Score of any candidate pair, looked up in sorted numpy keys (a dict of tens of millions
    of Python tuples would cost more memory than the solve)."""

    def __init__(self, candidates: Pairs, n_units: int) -> None:
        keys = candidates.household.astype(np.int64) * n_units + candidates.unit
        order = np.argsort(keys)
        self.keys, self.scores, self.n_units = keys[order], candidates.score[order], n_units

    def total(self, assignment: list[tuple[int, int]]) -> int:
        if not assignment:
            return 0
        pairs = np.array(assignment, dtype=np.int64)
        keys = pairs[:, 0] * self.n_units + pairs[:, 1]
        return int(self.scores[np.searchsorted(self.keys, keys)].sum())


def measure(
    method: str,
    run: Callable[[], tuple[list[tuple[int, int]], str, str]],
    instance: Instance,
    scores: PairScores,
) -> Outcome:
    reset_peak_memory()
    started = time.perf_counter()
    assignment, optimal, note = run()
    seconds = time.perf_counter() - started
    urgent = sum(1 for h, _ in assignment if instance.households[h].urgent)
    return Outcome(
        method,
        seconds,
        peak_memory_mb(),
        len(assignment),
        urgent,
        scores.total(assignment),
        optimal,
        note,
    )


def deferred_acceptance(
    instance: Instance, policy: Policy, candidates: Pairs
) -> list[tuple[int, int]]:
    """Household-proposing deferred acceptance: households propose by score, units keep the
    highest-priority proposers up to their capacity (stable, not maximum)."""
    priority = priorities(instance, policy)
    order = np.lexsort((-candidates.score, candidates.household))
    lists: list[list[int]] = [[] for _ in instance.households]
    for index in order:
        lists[int(candidates.household[index])].append(int(candidates.unit[index]))
    next_choice = [0] * len(instance.households)
    held: list[list[int]] = [[] for _ in instance.units]
    free = [h for h in range(len(instance.households)) if lists[h]]
    while free:
        h = free.pop()
        if next_choice[h] >= len(lists[h]):
            continue
        u = lists[h][next_choice[h]]
        next_choice[h] += 1
        held[u].append(h)
        if len(held[u]) > policy.candidates_per_unit:
            held[u].sort(key=lambda x: (-priority[x], x))
            free.append(held[u].pop())
    return [(h, u) for u, households in enumerate(held) for h in households]


def cp_sat(
    instance: Instance, policy: Policy, candidates: Pairs, limit: float
) -> tuple[list[tuple[int, int]], str, str]:
    model = cp_model.CpModel()
    pairs = list(zip(candidates.household.tolist(), candidates.unit.tolist(), strict=True))
    x = [model.new_bool_var(f"x{i}") for i in range(len(pairs))]
    by_household: dict[int, list[Any]] = {}
    by_unit: dict[int, list[Any]] = {}
    for var, (h, u) in zip(x, pairs, strict=True):
        by_household.setdefault(h, []).append(var)
        by_unit.setdefault(u, []).append(var)
    for variables in by_household.values():
        model.add_at_most_one(variables)
    for variables in by_unit.values():
        model.add(sum(variables) <= policy.candidates_per_unit)
    if policy.income_quota is not None:
        weights = quota_weights(
            instance, policy.income_quota, candidates.household, candidates.unit
        )
        model.add(sum(int(w) * var for var, w in zip(x, weights.tolist(), strict=True) if w) >= 0)
    bonus = int(candidates.score.max(initial=0)) * (len(instance.units) + 1) + 1
    model.maximize(
        sum((bonus + int(s)) * var for var, s in zip(x, candidates.score.tolist(), strict=True))
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], "no", f"{solver.status_name(status)} at {limit:g} s"
    chosen = [pair for var, pair in zip(x, pairs, strict=True) if solver.value(var)]
    bound = solver.best_objective_bound
    gap = (bound - solver.objective_value) / bound if bound > 0 else 0.0
    optimal = "yes" if status == cp_model.OPTIMAL else "no"
    return chosen, optimal, f"gap {gap:.3%}" if status != cp_model.OPTIMAL else ""


def highs_mip(
    instance: Instance, policy: Policy, candidates: Pairs, limit: float
) -> tuple[list[tuple[int, int]], str, str]:
    """The same model as CP-SAT's, every pair a variable, solved by HiGHS alone: what our
    Lagrangian flow and its residual MIP (matcher/quota/close.py) are measured against."""
    households = len(instance.households)
    quota = policy.income_quota
    weights = (
        quota_weights(instance, quota, candidates.household, candidates.unit)
        if quota is not None
        else np.zeros(candidates.score.size, dtype=np.int64)
    )
    network = FlowNetwork.build(
        instance,
        policy,
        CandidateSet(candidates, PairRuns.empty(), ChainLayout.of_chains([], len(instance.units))),
        {},
    )
    model, _ = AssignmentMip.whole_round(
        (candidates.household, candidates.unit, candidates.score),
        weights,
        network.unit_capacity,
        network.building_of_unit,
        network.building_capacity,
        households,
    )
    outcome = solve_assignment_mip(model, None, limit, 0)
    if outcome.chosen is None:
        return [], "no", f"nothing found at {limit:g} s"
    chosen = np.flatnonzero(outcome.chosen)
    pairs = list(
        zip(candidates.household[chosen].tolist(), candidates.unit[chosen].tolist(), strict=True)
    )
    value = float(model.values[chosen].sum())
    gap = (outcome.bound - value) / outcome.bound if outcome.bound > 0 else 0.0
    return pairs, "yes" if outcome.optimal else "no", "" if outcome.optimal else f"gap {gap:.3%}"


def dense_assignment(
    instance: Instance, policy: Policy, candidates: Pairs
) -> tuple[list[tuple[int, int]], str, str]:
    from scipy.optimize import linear_sum_assignment

    n_h, n_u = len(instance.households), len(instance.units)
    bonus = float(candidates.score.max() if candidates.score.size else 0) * (min(n_h, n_u) + 1) + 1
    weights = np.zeros((n_h, n_u), dtype=np.float64)
    weights[candidates.household, candidates.unit] = bonus + candidates.score
    rows, cols = linear_sum_assignment(weights, maximize=True)
    keep = weights[rows, cols] > 0
    return list(zip(rows[keep].tolist(), cols[keep].tolist(), strict=True)), "yes", ""


def run_ours(
    text: str, geocoder: GazetteerGeocoder, chains: bool
) -> tuple[dict[str, Any], float, float]:
    """Our round end to end, JSON text in and out; without chains, every pair keeps its own
    arc in the flow (what the chains save, measured in the same run)."""
    reset_peak_memory()
    started = time.perf_counter()
    tuning = Tuning() if chains else Tuning(chaining_min_arcs_saved=2**62)
    result = solve_round_text(text, lambda: geocoder, SYSTEM_CLOCK.today(), tuning)
    json.dumps(result)
    return result, time.perf_counter() - started, peak_memory_mb()


def our_outcome(
    method: str, instance: Instance, result: dict[str, Any], seconds: float, peak_mb: float
) -> Outcome:
    index_of = {h.id: i for i, h in enumerate(instance.households)}
    urgent = sum(
        1 for m in result["matches"] if instance.households[index_of[m["household"]]].urgent
    )
    return Outcome(
        method,
        seconds,
        peak_mb,
        len(result["matches"]),
        urgent,
        result["stats"]["objective"],
        "yes" if result["stats"]["optimal"] else "no",
        "candidates {candidates:.2f} s, solve {solve:.2f} s, explain {explain:.2f} s".format(
            **result["stats"]["seconds"]
        )
        + (f", gap {result['stats']['gap']:.4%}" if not result["stats"]["optimal"] else "")
        + "".join(f"; {n}" for n in result.get("notes", []) if "gap left open" in n),
    )


def bench_instance(
    label: str,
    document: dict[str, Any],
    cpsat_limit: float,
    dense_limit: int,
    cpsat_max_pairs: int,
    peers_max_pairs: int,
) -> tuple[list[Outcome], dict[str, Any]]:
    """Our round, then (where the round's pairs can be held one by one) our round without
    chains and the peers, on the same pairs."""
    text = json.dumps(document)
    geocoder = GazetteerGeocoder(load_gazetteer(Settings().gazetteer_path))
    result, ours_seconds, ours_peak = run_ours(text, geocoder, chains=True)
    pair_count = result["stats"]["candidate_pairs"]
    peers_run = pair_count <= peers_max_pairs
    unchained = run_ours(text, geocoder, chains=False) if peers_run else None

    round_in = parse_round(text)
    instance, policy = (
        to_instance(round_in, lambda: geocoder),
        to_policy(round_in.policy.dated(SYSTEM_CLOCK.today())),
    )
    candidates = generate_candidates(instance, policy, UnitTable.build(instance, policy))
    outcomes = [
        our_outcome(
            "housing-match (min-cost flow, end to end)",
            instance,
            result,
            ours_seconds,
            ours_peak,
        )
    ]
    meta = {
        "label": label,
        "households": len(instance.households),
        "units": len(instance.units),
        "pairs": len(candidates),
        "arcs": candidates.arcs,
        "candidates_per_unit": policy.candidates_per_unit,
        "quota": policy.income_quota is not None,
        "time_limit_s": policy.time_limit_s,
        "notes": result.get("notes", []),
        "seconds": result["stats"]["seconds"],
        "gap": result["stats"]["gap"],
        "peers_run": peers_run,
    }
    if unchained is None:
        return outcomes, meta
    outcomes.append(
        our_outcome("housing-match, one arc per pair (no chains)", instance, *unchained)
    )
    pairs = candidates.every_pair()
    del candidates
    scores = PairScores(pairs, len(instance.units))
    outcomes.append(
        measure(
            "greedy by priority",
            lambda: (by_priority(instance, policy, pairs), "no", ""),
            instance,
            scores,
        )
    )
    outcomes.append(
        measure(
            "deferred acceptance",
            lambda: (
                deferred_acceptance(instance, policy, pairs),
                "no",
                "stable, not maximum",
            ),
            instance,
            scores,
        )
    )
    if cpsat_limit > 0 and pairs.score.size <= cpsat_max_pairs:
        outcomes.append(
            measure(
                f"CP-SAT, same model ({cpsat_limit:g} s limit, 2 workers)",
                lambda: cp_sat(instance, policy, pairs, cpsat_limit),
                instance,
                scores,
            )
        )
    if policy.income_quota is not None and cpsat_limit > 0 and pairs.score.size <= cpsat_max_pairs:
        outcomes.append(
            measure(
                f"HiGHS MIP, same model ({cpsat_limit:g} s limit, 1 thread)",
                lambda: highs_mip(instance, policy, pairs, cpsat_limit),
                instance,
                scores,
            )
        )
    dense_cells = len(instance.households) * len(instance.units)
    if policy.candidates_per_unit == 1 and dense_cells <= dense_limit:
        outcomes.append(
            measure(
                "scipy linear_sum_assignment (dense)",
                lambda: dense_assignment(instance, policy, pairs),
                instance,
                scores,
            )
        )
    return outcomes, meta


def write_report(
    runs: list[tuple[list[Outcome], dict[str, Any]]],
    peers_max_pairs: int,
    with_targets: bool = True,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Run on {date.today().isoformat()} with `make bench` (`python -m bench.run`), all",
        "methods side by side in one process run.",
        "",
        f"Machine: {machine()}.",
        "",
        "Every method works on the same feasible pairs (all of them: no pruning). Our time is end",
        "to end, JSON text in to JSON text out (parsing, candidate generation, solve,",
        "explanations of every unmatched household); the peers' times are the assignment alone,",
        "on the candidates ours generated. Peak memory is the process's peak resident set",
        "during that method (it includes the instance already in memory). Score = total score",
        "of the matches (docs/scoring.md); *vs greedy* compares households housed.",
        "*Without chains* is our round again with one flow arc per pair, where the first row",
        "holds the pairs of households without a workplace as runs and the flow lets them",
        "enter chains of units (docs/scoring.md): what the chains save, on the same machine in",
        "the same run. *Held* counts what our round holds: the pairs held one by one plus the",
        "runs. The peers and the row without chains need every pair one by one, so they run",
        f"only on rounds of up to {peers_max_pairs:,} pairs.",
        f"The income quota is {QUOTA['share']:.0%} under "
        f"{QUOTA['threshold_eur_per_consumption_unit']:,.0f} EUR per consumption unit",
        "(it binds on these households; the French 25% under 10,000 EUR does not). Only ours",
        "CP-SAT and HiGHS enforce it: greedy, deferred acceptance and",
        "the dense assignment ignore it, so their rows are not comparable on that instance.",
        "CP-SAT is given models of up to a million pairs: building a larger one in Python",
        "takes longer than its time limit. The dense assignment runs where H x U fits in",
        "25 million cells and k = 1.",
        "",
    ]
    for outcomes, meta in runs:
        lines += [
            f"## {meta['label']}: {meta['households']:,} households x {meta['units']:,} units",
            "",
            f"{meta['pairs']:,} feasible pairs (held: {meta['arcs']:,}), "
            f"{meta['candidates_per_unit']} candidate(s) per unit"
            + (f", time limit {meta['time_limit_s']:g} s." if meta["quota"] else ".")
            + (
                ""
                if meta["peers_run"]
                else " Too many pairs to hold one by one: the peers and the row without chains"
                " were not run."
            ),
            "",
            "| method | time (s) | peak MB | housed | vs greedy | urgent housed | score | "
            "optimal | note |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        greedy_matched = next((o.matched for o in outcomes if o.method.startswith("greedy")), None)
        for o in outcomes:
            versus = "n/a" if greedy_matched is None else f"{o.matched - greedy_matched:+,}"
            lines.append(
                f"| {o.method} | {o.seconds:.2f} | {o.peak_mb:,.0f} | {o.matched:,} | {versus} "
                f"| {o.urgent_matched:,} | {o.objective:,} | {o.optimal} | {o.note} |"
            )
        lines.append("")
    if with_targets:
        lines += targets(runs)
    return "\n".join(lines)


# (households, k, national, quota, seconds, MB, largest gap accepted, what the target asks for)
TARGETS = [
    (10_000, 1, False, True, 15.0, 2048, 1e-5, "10,000 x 10,000 in one departement with the quota"),
    (50_000, 1, True, False, 60.0, 4096, 0.0, "50,000 x 50,000 over 8 regions"),
    (1_000, 3, False, True, 0.5, None, 0.0, "1,000 x 1,000 with k = 3 and the quota"),
    (600, 1, False, True, 2.0, None, 0.0, "600 x 600, a quota hard to prove (40% under 8,000 EUR)"),
    (
        1_000,
        1,
        False,
        True,
        2.0,
        None,
        0.0,
        "1,000 x 1,000, a quota hard to prove (40%, 8,000 EUR)",
    ),
]


def targets(runs: list[tuple[list[Outcome], dict[str, Any]]]) -> list[str]:
    """The issue's targets against this run's measurements of our end-to-end time."""
    lines = ["## Against the targets", "", "| target | measured | met |", "|---|---|---|"]
    reasons: list[str] = []
    for households, k, national, quota, seconds, megabytes, gap, what in TARGETS:
        limit = f"under {seconds:g} s" + (f", {megabytes / 1024:g} GB" if megabytes else "")
        limit += f", gap under {gap:.3%} or proven" if gap else ", proven optimal"
        found = [
            (outcomes[0], meta)
            for outcomes, meta in runs
            if meta["households"] == households
            and meta["candidates_per_unit"] == k
            and meta["label"].startswith("National") == national
            and meta["quota"] == quota
        ]
        if not found:
            lines.append(f"| {what}: {limit} | not run | no |")
            continue
        ours, meta = found[0]
        met = (
            ours.seconds < seconds
            and (megabytes is None or ours.peak_mb < megabytes)
            and (ours.optimal == "yes" or meta["gap"] < gap)
        )
        optimal = "optimal" if ours.optimal == "yes" else f"gap {meta['gap']:.4%}"
        lines.append(
            f"| {what}: {limit} | {ours.seconds:.2f} s, {ours.peak_mb:,.0f} MB, {optimal} "
            f"| {'yes' if met else 'no'} |"
        )
        if not met:
            reasons.append(f"- {what}: " + why_missed(meta))
    if reasons:
        lines += ["", "Why the targets are missed, from this run:", "", *reasons]
    return [*lines, ""]


def why_missed(meta: dict[str, Any]) -> str:
    """Where the time went and why optimality was not proven, from the round's own notes."""
    notes = [n.removeprefix("income quota: ") for n in meta["notes"]]
    solves = next((int(n.split()[0]) for n in notes if n.endswith("(Lagrangian relaxation)")), 0)
    solve_seconds = meta["seconds"]["solve"]
    held = (
        f"held as {meta['arcs']:,} pairs and runs, all of them in each of the round's flow solves"
    )
    if solves:  # the quota weighs pairs one by one, and each twice with k > 1 (units first)
        arcs = meta["pairs"] * (2 if meta["candidates_per_unit"] > 1 else 1)
        held = (
            f"held as {meta['arcs']:,} pairs and runs for the round's own solve, and as "
            f"{arcs:,} arcs in each of the quota's"
            + (
                ", each pair once on a unit's first place and once on its others"
                if arcs > meta["pairs"]
                else ""
            )
        )
    parts = [
        f"{meta['pairs']:,} feasible pairs, {held} (solve phase {solve_seconds:.1f} s"
        + (f", {solves + 1} flow solves: the round's and {solves} for the quota" if solves else "")
        + f"; candidates {meta['seconds']['candidates']:.1f} s, explanations "
        f"{meta['seconds']['explain']:.1f} s)",
    ]
    closed = [n for n in notes if n.startswith("gap closed by")]
    if closed:  # the flow solves are a small part: proving the last gap takes the rest
        parts.append(
            f"{closed[0]}: most of the solve phase goes to that proof, not to the flow solves"
        )
    elif solves:  # the quota's solves are warm (matcher/simplex.py): no one solve dominates
        parts.append(
            "the quota's solves run warm on a network simplex over every pair, which also "
            "holds about 100 bytes an arc for the whole search: the targets need fewer arcs"
        )
    else:
        parts.append(
            f"one flow solve over them takes about {solve_seconds:.1f} s here, almost all of it "
            "in OR-tools: the target needs fewer arcs, not a faster Python side"
        )
    parts += [
        n for n in notes if n.startswith(("multiplier estimated on a sample", "gap left open"))
    ]
    return "; ".join(parts) + "."


def bench_and_print(
    label: str, document: dict[str, Any], args: argparse.Namespace
) -> tuple[list[Outcome], dict[str, Any]]:
    """One instance's outcomes, printed as soon as they are known (a full run takes long)."""
    run = bench_instance(
        label,
        document,
        args.cpsat_limit,
        args.dense_limit,
        args.cpsat_max_pairs,
        args.peers_max_pairs,
    )
    report = write_report([run], args.peers_max_pairs, with_targets=False)
    print(report.split("\n## ", 1)[1], flush=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,5000,10000", help="departement sizes (H = U)")
    parser.add_argument("--national", default="", help="national sizes (H = U), e.g. 10000,50000")
    parser.add_argument("--cpsat-limit", type=float, default=20.0)
    parser.add_argument("--dense-limit", type=int, default=25_000_000, help="max H x U cells")
    parser.add_argument(
        "--cpsat-max-pairs", type=int, default=1_000_000, help="largest model given to CP-SAT"
    )
    parser.add_argument(
        "--peers-max-pairs",
        type=int,
        default=40_000_000,
        help="largest round (feasible pairs) the peers and the row without chains run on",
    )
    parser.add_argument(
        "--quota-time-limit", type=float, default=600.0, help="time_limit_s of the quota rounds"
    )
    parser.add_argument("--output", type=Path, default=DOCS)
    args = parser.parse_args()

    quota = QUOTA
    runs = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        scenarios = [(1, None), (3, quota)] if size <= 1000 else [(1, None), (1, quota)]
        for k, income_quota in scenarios:
            label = f"One departement (Puy-de-Dome), k = {k}" + (
                ", with the income quota" if income_quota else ""
            )
            policy: dict[str, Any] = {"candidates_per_unit": k}
            if income_quota:
                policy["income_quota"] = income_quota
                policy["time_limit_s"] = args.quota_time_limit
            document = make_round(size, size, "departement", seed=size, **policy)
            runs.append(bench_and_print(label, document, args))
    for size in PROOF_SIZES:
        label = (
            f"One departement (Puy-de-Dome), k = 1, {PROOF_QUOTA['share']:.0%} under "
            f"{PROOF_QUOTA['threshold_eur_per_consumption_unit']:,.0f} EUR (a quota hard to prove)"
        )
        document = make_round(
            size,
            size,
            "departement",
            seed=size,
            income_quota=PROOF_QUOTA,
            time_limit_s=args.quota_time_limit,
        )
        runs.append(bench_and_print(label, document, args))
    for size in [int(s) for s in args.national.split(",") if s]:
        document = make_round(size, size, "national", seed=size)
        runs.append(bench_and_print("National, 8 regions", document, args))
    report = write_report(runs, args.peers_max_pairs)
    kept = kept_blocks(args.output)  # bench/load.py's table, the design measurements
    args.output.write_text("\n\n".join([report, *kept]) + "\n", encoding="utf-8")
    print(f"-> {args.output}")


if __name__ == "__main__":
    main()
