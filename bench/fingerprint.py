"""The results of benchmark instances, to show that a change of the matcher changes nothing.

    python -m bench.fingerprint --write DIR      # before the change
    python -m bench.fingerprint --compare DIR    # after: the instances whose result differs

Each instance is solved end to end (round file in, result out, explanations included) and its
result written as JSON without the timings. A refactoring of `matcher/` must leave every file
identical; a change meant to change results shows here what it changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.instances import make_round
from bench.run import PROOF_QUOTA, QUOTA
from services.clock import SYSTEM_CLOCK
from services.geocoding import GazetteerGeocoder, load_gazetteer
from services.roundfile import dumps, solve_round_text
from services.settings import Settings

# (name, households = units, scale, policy): small enough to be proven optimal in seconds,
# so that a time limit never decides a result; every path of the matcher is taken (chains,
# k > 1, the quota and its gap closer, pins are covered by the tests).
INSTANCES: list[tuple[str, int, str, dict[str, Any]]] = [
    ("departement-300-k1", 300, "departement", {"candidates_per_unit": 1}),
    ("departement-1000-k1", 1000, "departement", {"candidates_per_unit": 1}),
    ("departement-1000-k3", 1000, "departement", {"candidates_per_unit": 3}),
    (
        "departement-300-k3-quota",
        300,
        "departement",
        {"candidates_per_unit": 3, "income_quota": QUOTA},
    ),
    (
        "departement-600-k1-hard-quota",
        600,
        "departement",
        {"candidates_per_unit": 1, "income_quota": PROOF_QUOTA},
    ),
    ("national-3000-k1", 3000, "national", {"candidates_per_unit": 1}),
]


def results() -> dict[str, str]:
    """Each instance's result as JSON text, timings left out."""
    geocoder = GazetteerGeocoder(load_gazetteer(Settings().gazetteer_path))
    found = {}
    for name, size, scale, policy in INSTANCES:
        document = make_round(size, size, scale, seed=size, **policy)
        result = solve_round_text(json.dumps(document), lambda: geocoder, SYSTEM_CLOCK.today())
        result["stats"].pop("seconds", None)
        found[name] = dumps(result)
        print(f"{name}: {result['status']}, {len(result['matches'])} matches", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    chosen = parser.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--write", type=Path, help="directory to write the results into")
    chosen.add_argument("--compare", type=Path, help="directory of results written before")
    args = parser.parse_args()
    found = results()
    if args.write is not None:
        args.write.mkdir(parents=True, exist_ok=True)
        for name, text in found.items():
            (args.write / f"{name}.json").write_text(text, encoding="utf-8")
        return
    differing = [
        name
        for name, text in found.items()
        if (args.compare / f"{name}.json").read_text(encoding="utf-8") != text
    ]
    for name in differing:
        print(f"differs: {name}")
    print("identical" if not differing else f"{len(differing)} of {len(found)} differ")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
