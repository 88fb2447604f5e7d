"""Load benchmark: `housing-match serve` on PostgreSQL under concurrent clients.

    python -m bench.load [--processes 1,2] [--seconds 15] [--connections 32]

A fresh PostgreSQL schema gets 1,000 units, 1,000 households and a solved round of them; then,
for each number of server processes, each request is measured twice: its most requests a
second (`--connections` connections sending back to back), and its latency at the target
rate (requests sent on a fixed schedule, whatever the answers; a request's time counts from
when it was due, so a server that falls behind shows it instead of slowing the clients
down). The client is this process: asyncio with a minimal HTTP/1.1 keep-alive client (httpx
took more CPU a request than some routes, on the same 2 cores as the server). Writes its
table into docs/benchmarks.md, between the load markers (bench/run.py keeps that block).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import text

from bench.docs import DOCS, machine, markers, write_block
from bench.instances import api_records, make_round
from models import ApiRole, Landlord, migrate
from models.db import make_engine, session_factory
from services.access import create_key
from services.settings import Settings

BEGIN, END = markers("load")
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
class Run:
    """Requests of one scenario over a stretch of time."""

    requests: int
    seconds: float
    latencies_ms: np.ndarray[Any, np.dtype[np.float64]]
    errors: int  # responses other than the scenario's success status
    response_bytes: int
    server_cpu_s: float  # CPU time of the server's processes meanwhile
    client_cpu_s: float  # CPU time of this process (the client) meanwhile

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))


@dataclass(frozen=True)
class Measure:
    scenario: str
    processes: int
    most: Run  # back to back on every connection
    at_target: Run | None  # on the target's schedule (None: no target)
    target_rate: float | None

    @property
    def met(self) -> bool:
        return (
            self.at_target is not None
            and self.target_rate is not None
            and self.at_target.rate >= 0.98 * self.target_rate
            and self.at_target.percentile(99) < TARGET_P99_MS
        )


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


# Request number -> the bytes of one HTTP/1.1 request.
Request = Callable[[int], bytes]


def http_request(
    method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: bench"] + [f"{k}: {v}" for k, v in headers.items()]
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


class Connection:
    """One keep-alive connection: a request out, its response read whole (Content-Length or
    chunked), its status and body size back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> tuple[int, int]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(b":") for line in lines[1:] if line)
        }
        if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            size = 0
            while chunk := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await self.reader.readexactly(chunk + 2)
                size += chunk
            await self.reader.readuntil(b"\r\n")
            return status, size
        length = int(fields.get(b"content-length", b"0"))
        await self.reader.readexactly(length)
        return status, length

    def close(self) -> None:
        self.writer.close()


def server_cpu_seconds(pids: list[int]) -> float:
    """User and system time of the server's processes (uvicorn's workers are children)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def server_pids(process: subprocess.Popen[bytes]) -> list[int]:
    children = subprocess.run(
        ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [process.pid, *(int(child) for child in children)]


async def back_to_back(
    port: int, request: Request, success: int, connections: int, seconds: float, pids: list[int]
) -> Run:
    """Every connection sends its next request as soon as it has its answer."""
    latencies: list[float] = []
    errors = size = 0
    opened = [await Connection.open(port) for _ in range(connections)]
    cpu, client_cpu = server_cpu_seconds(pids), time.process_time()
    started = time.perf_counter()
    stop_at = started + seconds

    async def client(connection: Connection) -> None:
        nonlocal errors, size
        while time.perf_counter() < stop_at:
            sent = time.perf_counter()
            status, size = await connection.exchange(request(next(SEQUENCE)))
            latencies.append(time.perf_counter() - sent)
            errors += status != success

    await asyncio.gather(*(client(connection) for connection in opened))
    elapsed = time.perf_counter() - started
    cpu, client_cpu = server_cpu_seconds(pids) - cpu, time.process_time() - client_cpu
    for connection in opened:
        connection.close()
    latencies_ms = np.array(latencies) * 1000
    return Run(len(latencies), elapsed, latencies_ms, errors, size, cpu, client_cpu)


async def on_schedule(
    port: int,
    request: Request,
    success: int,
    rate: float,
    connections: int,
    seconds: float,
    pids: list[int],
) -> Run:
    """Request i is due at start + i / rate and sent then on a free connection (or when one
    frees up); its latency counts from when it was due."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    errors = size = 0
    loop = asyncio.get_running_loop()

    async def one(number: int, due: float) -> None:
        nonlocal errors, size
        connection = await idle.get()
        try:
            status, size = await connection.exchange(request(number))
        finally:
            idle.put_nowait(connection)
        latencies.append(loop.time() - due)
        errors += status != success

    cpu, client_cpu = server_cpu_seconds(pids), time.process_time()
    started = loop.time()
    sending = []
    for i in range(int(rate * seconds)):
        due = started + i / rate
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        sending.append(asyncio.create_task(one(next(SEQUENCE), due)))
    await asyncio.gather(*sending)
    elapsed = loop.time() - started
    cpu, client_cpu = server_cpu_seconds(pids) - cpu, time.process_time() - client_cpu
    while not idle.empty():
        idle.get_nowait().close()
    latencies_ms = np.array(latencies) * 1000
    return Run(len(latencies), elapsed, latencies_ms, errors, size, cpu, client_cpu)


def measure(
    scenario: str,
    port: int,
    request: Request,
    success: int,
    processes: int,
    pids: list[int],
    args: Any,
) -> Measure:
    asyncio.run(back_to_back(port, request, success, args.connections, 2.0, pids))  # warm-up
    most = asyncio.run(back_to_back(port, request, success, args.connections, args.seconds, pids))
    target = None if "result" in scenario else TARGETS[scenario.split()[0]]
    at_target = (
        None
        if target is None
        else asyncio.run(
            on_schedule(port, request, success, target, args.connections * 2, args.seconds, pids)
        )
    )
    outcome = Measure(scenario, processes, most, at_target, target)
    line = (
        f"{scenario} x{processes}: at most {most.rate:.0f} req/s "
        f"({most.server_cpu_s / most.requests * 1000:.1f} ms server CPU a request)"
    )
    if at_target is not None:
        line += (
            f"; at {target:.0f}/s: {at_target.rate:.0f} req/s, "
            f"p50 {at_target.percentile(50):.0f} ms, p99 {at_target.percentile(99):.0f} ms"
        )
    print(line + f", {most.errors + (at_target.errors if at_target else 0)} errors", flush=True)
    return outcome


def report(measures: list[Measure], size: int, args: Any) -> str:
    settings = Settings()
    lines = [
        BEGIN,
        "## The HTTP API under load",
        "",
        f"Run on {date.today().isoformat()} with `python -m bench.load` against `housing-match "
        "serve --workers N` on PostgreSQL, with",
        f"{size:,} units, {size:,} households and a solved round of them in the database; "
        f"each process lets {settings.concurrent_requests} requests in at once "
        "(`HOUSING_MATCH_CONCURRENT_REQUESTS`).",
        f"*Most*: {args.connections} connections sending requests back to back for "
        f"{args.seconds:g} s. *At the target*: requests sent",
        f"on the target's schedule for {args.seconds:g} s over up to {args.connections * 2} "
        "connections, each request timed from when it was due.",
        "The client (one Python process, asyncio) runs on the same machine, after a 2 s warm-up; "
        "its own CPU a request is in the table.",
        f"Machine: {machine()}. Target: {TARGETS['GET']:.0f} GET/s and {TARGETS['POST']:.0f} "
        f"POST/s with a p99 under {TARGET_P99_MS:.0f} ms.",
        "",
        "| request | server processes | most req/s | server CPU ms a request "
        "| client CPU ms a request | at the target: req/s | p50 ms | p99 ms | errors "
        "| bytes a response | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in measures:
        errors = m.most.errors + (m.at_target.errors if m.at_target else 0)
        if m.at_target is None:
            at_target = "n/a | n/a | n/a"
            met = "n/a"
        else:
            at_target = (
                f"{m.at_target.rate:,.0f} | {m.at_target.percentile(50):.0f} "
                f"| {m.at_target.percentile(99):.0f}"
            )
            met = "met" if m.met else "missed"
        lines.append(
            f"| `{m.scenario}` | {m.processes} | {m.most.rate:,.0f} "
            f"| {per_request_ms(m.most.server_cpu_s, m.most)} "
            f"| {per_request_ms(m.most.client_cpu_s, m.most)} | {at_target} "
            f"| {errors} | {m.most.response_bytes:,} | {met} |"
        )
    cores = os.cpu_count() or 1
    targeted = [m for m in measures if m.target_rate is not None and m.processes == cores]
    lines += [
        "",
        "The client and PostgreSQL share the machine's cores with the server, so these rates "
        "are lower than",
        "separate machines would give; they are comparable between rows. At the server CPU a "
        f"request measured, {cores} cores",
        "would serve at most "
        + ", ".join(
            f"{cores / (m.most.server_cpu_s / max(m.most.requests, 1)):,.0f} "
            f"`{m.scenario.split('?')[0]}` a second"
            for m in targeted
        )
        + " with nothing else running.",
        END,
    ]
    return "\n".join(lines)


def per_request_ms(cpu_s: float, run: Run) -> str:
    return f"{cpu_s / max(run.requests, 1) * 1000:.1f}"


def new_unit(headers: dict[str, str], processes: int, number: int) -> bytes:
    """POST of a new unit, its reference unique over the run."""
    unit = {
        "reference": f"LOAD-{processes}-{number}",
        "commune": "Riom",
        "postcode": "63200",
        "rooms": 2,
        "surface_m2": 45,
        "rent_eur": 300,
        "available_from": "2026-12-01",
    }
    return http_request("POST", "/v1/units", headers, unit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", default="1,2", help="server processes to try")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=32)
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
        units_page = http_request("GET", "/v1/units?limit=50", keys.landlord)
        result = http_request("GET", f"/v1/rounds/{round_id}/result", keys.coordinator)
        for processes in [int(p) for p in args.processes.split(",")]:
            process, base = serve(url, processes, run_worker=False)
            port = int(base.rsplit(":", 1)[1])
            pids = server_pids(process)
            try:
                scenarios: list[tuple[str, Request, int]] = [
                    ("GET /v1/units?limit=50", lambda _: units_page, 200),
                    (
                        "POST /v1/units",
                        partial(new_unit, keys.landlord, processes),
                        201,
                    ),
                    (
                        f"GET /v1/rounds/{{id}}/result ({args.size:,} households)",
                        lambda _: result,
                        200,
                    ),
                ]
                for scenario, request, success in scenarios:
                    measures.append(
                        measure(scenario, port, request, success, processes, pids, args)
                    )
            finally:
                process.terminate()
                process.wait()
    finally:
        drop_schema(schema)
    write_block(DOCS, "load", report(measures, args.size, args))
    print(f"-> {DOCS}")


if __name__ == "__main__":
    main()
