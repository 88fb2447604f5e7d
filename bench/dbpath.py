"""The database path: a round through the API on PostgreSQL, each phase timed.

    python -m bench.dbpath [--size 5000]

A fresh PostgreSQL schema; `housing-match serve` (one process, no worker thread) takes the
units and the households of a generated departement round through the import routes; a
coordinator queues a round scoped to the departement; a round worker in this process (so its
phases can be timed) reads the snapshot, solves, stores the result; the result is read back
(streamed as JSON, and as the CSV export that builds its table in memory, side by side); the
round is published. The server's memory (resident set of its processes, sampled every 10 ms)
is noted around each request. Writes its table into docs/benchmarks.md between the dbpath
markers (bench/run.py keeps that block).
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from bench.docs import DOCS, machine, markers, write_block
from bench.instances import api_records, make_round
from bench.load import drop_schema, prepared_schema, serve, server_pids
from models.db import make_engine, session_factory
from services.rounds import RoundPhase
from services.worker import RoundWorker

BEGIN, END = markers("dbpath")
PUBLISH_TARGET_S = 5.0
TERRITORY = "63"  # the generated round's units have Clermont-Ferrand's postcode


def resident_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


@dataclass
class Step:
    name: str
    seconds: float
    note: str = ""
    server_mb: tuple[float, float] | None = None  # the server's memory before, and at most during


@dataclass
class Steps:
    pids: list[int]
    done: list[Step] = field(default_factory=list)

    @contextmanager
    def timed(self, name: str) -> Iterator[Step]:
        """Times the block, and samples the server's memory while it runs."""
        before = resident_bytes(self.pids)
        peak = before
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.wait(0.01):
                peak = max(peak, resident_bytes(self.pids))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        step = Step(name, 0.0)
        started = time.perf_counter()
        try:
            yield step
        finally:
            step.seconds = time.perf_counter() - started
            stop.set()
            sampler.join()
            step.server_mb = (before / 2**20, peak / 2**20)
            self.done.append(step)
            print(f"{name}: {step.seconds:.2f} s {step.note}", flush=True)


def solve_in_worker(url: str, steps: Steps) -> None:
    """The worker's claim and phases, each a step (the server is not involved)."""
    engine = make_engine(url)
    starts: list[tuple[str, float]] = [("claim", time.perf_counter())]

    def started(phase: RoundPhase) -> None:
        starts.append((phase, time.perf_counter()))

    worker = RoundWorker(session_factory(engine), "bench", heartbeat_s=5.0, on_phase=started)
    claimed = worker.run_once()
    ended = time.perf_counter()
    engine.dispose()
    if claimed is None:
        raise RuntimeError("the worker found no round")
    names = {"claim": "worker: claim the round", "loading": "worker: read the snapshot"}
    for (phase, start), (_, end) in zip(starts, [*starts[1:], ("end", ended)], strict=True):
        steps.done.append(Step(names.get(phase, f"worker: {phase}"), end - start))
        print(f"{phase}: {end - start:.2f} s", flush=True)


def run(size: int) -> tuple[list[Step], dict[str, Any]]:
    document = make_round(size, size, "departement", seed=size)
    units, households = api_records(document)
    households = [h | {"territory": TERRITORY} for h in households]
    schema, url, keys = prepared_schema()
    process, base = serve(url, 1, run_worker=False)
    facts: dict[str, Any] = {}
    try:
        steps = Steps(server_pids(process))
        with httpx.Client(base_url=base, timeout=900) as client:

            def call(method: str, path: str, headers: dict[str, str], **kw: Any) -> httpx.Response:
                response = client.request(method, path, headers=headers, **kw)
                response.raise_for_status()
                return response

            with steps.timed(f"import {size:,} units (POST /v1/units/import)"):
                call("POST", "/v1/units/import", keys.landlord, json=units)
            with steps.timed(f"import {size:,} households (POST /v1/households/import)"):
                call("POST", "/v1/households/import", keys.coordinator, json=households)
            policy = {
                "round_date": document["policy"]["round_date"],
                "territory": {"departements": [TERRITORY]},
            }
            with steps.timed("queue the round (POST /v1/rounds)"):
                round_id = call("POST", "/v1/rounds", keys.coordinator, json=policy).json()["id"]
            solve_in_worker(url, steps)
            with steps.timed("its status (GET /v1/rounds/{id})"):
                stats = call("GET", f"/v1/rounds/{round_id}", keys.coordinator).json()["statistics"]
            facts["matched"], facts["households"] = stats["matched"], stats["households"]
            with steps.timed("its result, JSON streamed (GET /v1/rounds/{id}/result)") as step:
                body = call("GET", f"/v1/rounds/{round_id}/result", keys.coordinator).content
                step.note = f"{len(body) / 2**20:.1f} MB"
            facts["result_mb"] = len(body) / 2**20
            with steps.timed("its proposals as CSV, built in memory (Accept: text/csv)") as step:
                csv = call(
                    "GET",
                    f"/v1/rounds/{round_id}/result",
                    keys.coordinator | {"Accept": "text/csv"},
                ).content
                step.note = f"{len(csv) / 2**20:.1f} MB"
            with steps.timed("publish (POST /v1/rounds/{id}/publish)") as step:
                published = call("POST", f"/v1/rounds/{round_id}/publish", keys.coordinator)
                facts["proposals"] = published.json()["proposals"]
                step.note = f"{facts['proposals']:,} proposals"
    finally:
        process.terminate()
        process.wait()
        drop_schema(schema)
    return steps.done, facts


def seconds_of(steps: list[Step], *prefixes: str) -> float:
    return sum(s.seconds for s in steps if s.name.startswith(prefixes))


def report(steps: list[Step], facts: dict[str, Any], size: int) -> str:
    solve = seconds_of(steps, "worker: candidates", "worker: solving", "worker: explaining")
    around = seconds_of(
        steps, "worker: claim", "worker: read", "worker: storing", "its ", "publish", "queue"
    )
    publish = seconds_of(steps, "publish")
    lines = [
        BEGIN,
        "## The database path",
        "",
        f"Run on {date.today().isoformat()} with `python -m bench.dbpath --size {size}`: "
        f"{size:,} units and {size:,} households of a generated",
        "departement round through the import routes of `housing-match serve` (one process) on "
        "PostgreSQL, a round scoped",
        f"to the departement solved by a round worker, its result read, and published. "
        f"Machine: {machine()}.",
        "Server memory: the resident set of the server's processes before the request, and "
        "the most sampled during it.",
        "",
        "| step | seconds | server MB before -> most | note |",
        "|---|---|---|---|",
    ]
    for step in steps:
        memory = f"{step.server_mb[0]:,.0f} -> {step.server_mb[1]:,.0f}" if step.server_mb else "-"
        lines.append(f"| {step.name} | {step.seconds:.2f} | {memory} | {step.note} |")
    lines += [
        "",
        f"{facts['matched']:,} of {facts['households']:,} households matched; the result is "
        f"{facts['result_mb']:.1f} MB of JSON.",
        f"Around the solve (claim, snapshot, storing, status, result, publish): {around:.1f} s, "
        f"against {solve:.1f} s of solving"
        f" ({'met' if around < solve else 'missed'}: less than the solve). "
        f"Publish: {publish:.1f} s ({'met' if publish < PUBLISH_TARGET_S else 'missed'}: "
        f"under {PUBLISH_TARGET_S:.0f} s).",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=5000, help="units and households")
    args = parser.parse_args()
    steps, facts = run(args.size)
    write_block(DOCS, "dbpath", report(steps, facts, args.size))
    print(f"-> {DOCS}")


if __name__ == "__main__":
    main()
