"""The command line's own cost: `housing-match solve` of the 3-household example, end to end.

    python -m bench.cli [--runs 7]

Each command runs `--runs` times in a fresh process (the median is kept), beside what any
Python command pays before it does anything: a bare interpreter, and one that only imports
the libraries a solve needs. Writes its table into docs/benchmarks.md, between the cli
markers (bench/run.py keeps that block).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bench.docs import DOCS, machine, markers, write_block

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "fixtures" / "example_round.json"
TARGET_S = 0.5
# What `solve` cannot do without: arrays, the flow solver, validation, the command line and
# the settings (where the gazetteer is, for the example's workplace given by its commune).
LIBRARIES = (
    "import numpy, pydantic, pydantic_settings, typer, rich.console; "
    "from ortools.graph.python import min_cost_flow"
)
COMMANDS: list[tuple[str, list[str]]] = [
    ("a bare Python interpreter", [sys.executable, "-c", "pass"]),
    ("importing the libraries a solve needs", [sys.executable, "-c", LIBRARIES]),
    ("`housing-match --help`", [sys.executable, "-m", "cli.main", "--help"]),
    (
        "`housing-match solve` of the 3-household example",
        [sys.executable, "-m", "cli.main", "solve", str(EXAMPLE)],
    ),
]


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report(measured: list[tuple[str, float]], runs: int) -> str:
    begin, end = markers("cli")
    solve = measured[-1][1]
    met = "met" if solve <= TARGET_S else f"missed by {solve - TARGET_S:.2f} s"
    floor = measured[1][1]
    lines = [
        begin,
        "## The command line",
        "",
        f"Run on {date.today().isoformat()} with `python -m bench.cli`: each command {runs} "
        "times in a fresh process, the median wall time.",
        f"Machine: {machine()}. Target: `housing-match solve` of the example in "
        f"{TARGET_S:g} s ({met}).",
        "",
        "| command | seconds |",
        "|---|---|",
        *(f"| {label} | {seconds:.2f} |" for label, seconds in measured),
        "",
        f"The libraries alone take {floor:.2f} s of the solve's {solve:.2f} s; commands import "
        "SQLAlchemy, Alembic and the API only when they use them.",
        end,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    measured = []
    for label, command in COMMANDS:
        seconds = median_seconds(command, args.runs)
        print(f"{label}: {seconds:.2f} s", flush=True)
        measured.append((label, seconds))
    write_block(DOCS, "cli", report(measured, args.runs))
    print(f"-> {DOCS}")


if __name__ == "__main__":
    main()
