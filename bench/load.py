"""Load benchmark: `housing-match serve` on PostgreSQL under concurrent clients.

    python -m bench.load [--processes 1,2] [--seconds 15] [--clients 32]

A fresh PostgreSQL schema gets 1,000 units, 1,000 households and a solved round of them; then,
for each number of server processes, each scenario runs for a fixed time with `--clients`
connections sending requests back to back from this process (asyncio + httpx), on the same
machine as the server, as a load generator on the same 2 cores would. Writes its table into
docs/benchmarks.md, between the load markers (bench/run.py keeps that block).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import text

from bench.instances import api_records, make_round
from models import ApiRole, Landlord, migrate
from models.db import make_engine, session_factory
from services.access import create_key

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- load: begin -->", "<!-- load: end -->"
POSTGRES_URL = os.environ.get(
    "HOUSING_MATCH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGETS = {"GET": 500.0, "POST": 200.0}  # requests a second, with p99 under 100 ms
TARGET_P99_MS = 100.0
SEQUENCE = itertools.count()  # request numbers, unique over the run (new units' references)


@dataclass(frozen=True)
class Keys:
    landlord: dict[str, str]
    coordinator: dict[str, str]


@dataclass(frozen=True)
class Measure:
    scenario: str
    processes: int
    clients: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # responses other than the scenario's success status
    response_bytes: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def prepared_schema() -> tuple[str, str, Keys]:
    """A new schema, migrated, with a landlord's and a coordinator's key."""
    schema = f"hm_load_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as session, session.begin():
        session.add(Landlord(name="Dome Habitat"))
        session.flush()
        landlord = create_key(session, ApiRole.LANDLORD, "dome", "Dome Habitat")[1]
        coordinator = create_key(session, ApiRole.COORDINATOR, "prefecture")[1]
    engine.dispose()
    keys = Keys({"Authorization": f"Bearer {landlord}"}, {"Authorization": f"Bearer {coordinator}"})
    return schema, url, keys


def drop_schema(schema: str) -> None:
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def serve(url: str, processes: int, run_worker: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    environment = os.environ | {
        "HOUSING_MATCH_DATABASE_URL": url,
        "DATABASE_URL": url,
        "HOUSING_MATCH_RUN_WORKER": "true" if run_worker else "false",
        "HOUSING_MATCH_EXPENSIVE_REQUESTS_PER_MINUTE": "1000",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(processes),
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.2)


def load_data(base: str, keys: Keys, size: int) -> int:
    """Units and households of a generated departement round, through the import routes,
    and a solved round of them; the round's id."""
    document = make_round(size, size, "departement", seed=size)
    units, households = api_records(document)
    with httpx.Client(base_url=base, timeout=300) as client:
        imported = client.post("/v1/units/import", json=units, headers=keys.landlord)
        imported.raise_for_status()
        imported = client.post("/v1/households/import", json=households, headers=keys.coordinator)
        imported.raise_for_status()
        queued = client.post(
            "/v1/rounds",
            json={"round_date": document["policy"]["round_date"]},
            headers=keys.coordinator,
        )
        queued.raise_for_status()
        round_id: int = queued.json()["id"]
        deadline = time.monotonic() + 600
        while client.get(f"/v1/rounds/{round_id}", headers=keys.coordinator).json()[
            "status"
        ] not in {"solved", "failed"}:
            if time.monotonic() > deadline:
                raise RuntimeError("the round was not solved in time")
            time.sleep(0.5)
        return round_id


Request = Callable[[httpx.AsyncClient, int], Any]


async def hammer(
    base: str, request: Request, success: int, clients: int, seconds: float
) -> tuple[list[float], int, int, float]:
    latencies: list[float] = []
    errors = 0
    size = 0
    stop_at = time.perf_counter() + seconds

    async def one_client(client: httpx.AsyncClient) -> None:
        nonlocal errors, size
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            response = await request(client, next(SEQUENCE))
            latencies.append(time.perf_counter() - started)
            size = len(response.content)
            if response.status_code != success:
                errors += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one_client(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, errors, size, elapsed


def measure(
    scenario: str, base: str, request: Request, success: int, processes: int, args: Any
) -> Measure:
    asyncio.run(hammer(base, request, success, args.clients, 2.0))  # warm-up
    latencies, errors, size, elapsed = asyncio.run(
        hammer(base, request, success, args.clients, args.seconds)
    )
    milliseconds = np.array(latencies) * 1000
    outcome = Measure(
        scenario,
        processes,
        args.clients,
        len(latencies),
        elapsed,
        float(np.percentile(milliseconds, 50)),
        float(np.percentile(milliseconds, 99)),
        errors,
        size,
    )
    print(
        f"{scenario} x{processes}: {outcome.rate:.0f} req/s, p50 {outcome.p50_ms:.0f} ms, "
        f"p99 {outcome.p99_ms:.0f} ms, {errors} errors",
        flush=True,
    )
    return outcome


def machine() -> str:
    from bench.run import machine as described

    return described()


def report(measures: list[Measure], size: int, args: Any) -> str:
    lines = [
        BEGIN,
        "## The HTTP API under load",
        "",
        f"Run on {date.today().isoformat()} with `python -m bench.load` against `housing-match "
        "serve --workers N` on PostgreSQL, with",
        f"{size:,} units, {size:,} households and a solved round of them in the database;",
        f"{args.clients} connections send requests back to back for {args.seconds:g} s per row,",
        "from one Python process (asyncio + httpx) on the same machine, after a 2 s warm-up.",
        f"Machine: {machine()}. Target: {TARGETS['GET']:.0f} GET/s and {TARGETS['POST']:.0f} "
        f"POST/s with a p99 under {TARGET_P99_MS:.0f} ms.",
        "",
        "| request | server processes | req/s | p50 ms | p99 ms | errors | bytes a response "
        "| target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in measures:
        method = m.scenario.split()[0]
        target = TARGETS.get(method)
        met = (
            "n/a"
            if target is None or "result" in m.scenario
            else ("met" if m.rate >= target and m.p99_ms < TARGET_P99_MS else "missed")
        )
        lines.append(
            f"| `{m.scenario}` | {m.processes} | {m.rate:,.0f} | {m.p50_ms:.0f} | "
            f"{m.p99_ms:.0f} | {m.errors} | {m.response_bytes:,} | {met} |"
        )
    lines += [
        "",
        "The load generator shares the two cores with the server, so these rates are lower than",
        "a separate client machine would measure; they are comparable between rows.",
        END,
    ]
    return "\n".join(lines)


BLOCK = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)


def load_block(path: Path) -> str:
    """The load table already in a benchmarks file ("" if none): bench/run.py keeps it."""
    found = BLOCK.search(path.read_text(encoding="utf-8")) if path.exists() else None
    return found.group(0) if found else ""


def write_into_docs(block: str) -> None:
    existing = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    pattern = BLOCK
    if pattern.search(existing):
        updated = pattern.sub(lambda _: block, existing)
    else:
        updated = existing.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(updated, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", default="1,2", help="server processes to try")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--size", type=int, default=1000, help="units and households loaded")
    args = parser.parse_args()

    schema, url, keys = prepared_schema()
    measures: list[Measure] = []
    try:
        process, base = serve(url, 1, run_worker=True)
        try:
            round_id = load_data(base, keys, args.size)
        finally:
            process.terminate()
            process.wait()
        for processes in [int(p) for p in args.processes.split(",")]:
            process, base = serve(url, processes, run_worker=False)
            try:
                scenarios: list[tuple[str, Request, int]] = [
                    (
                        "GET /v1/units?limit=50",
                        lambda c, _: c.get("/v1/units?limit=50", headers=keys.landlord),
                        200,
                    ),
                    (
                        "POST /v1/units",
                        lambda c, i, p=processes: c.post(
                            "/v1/units",
                            json={
                                "reference": f"LOAD-{p}-{i}",
                                "commune": "Riom",
                                "postcode": "63200",
                                "rooms": 2,
                                "surface_m2": 45,
                                "rent_eur": 300,
                                "available_from": "2026-12-01",
                            },
                            headers=keys.landlord,
                        ),
                        201,
                    ),
                    (
                        f"GET /v1/rounds/{{id}}/result ({args.size:,} households)",
                        lambda c, _: c.get(
                            f"/v1/rounds/{round_id}/result", headers=keys.coordinator
                        ),
                        200,
                    ),
                ]
                for scenario, request, success in scenarios:
                    measures.append(measure(scenario, base, request, success, processes, args))
            finally:
                process.terminate()
                process.wait()
    finally:
        drop_schema(schema)
    write_into_docs(report(measures, args.size, args))
    print(f"-> {DOCS}")


if __name__ == "__main__":
    main()
