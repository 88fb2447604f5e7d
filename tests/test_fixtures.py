"""The shipped data set is what fixtures/README.md promises, and its generator reproduces it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def units(fixtures_dir: Path) -> list[dict[str, str]]:
    with (fixtures_dir / "units.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def households(fixtures_dir: Path) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(
        (fixtures_dir / "households.json").read_text(encoding="utf-8")
    )
    return loaded


def test_units_spread_over_communes_with_a_realistic_typology(units: list[dict[str, str]]) -> None:
    """At least 150 units over 20+ communes; mostly T2-T3, few T5+."""
    assert len(units) >= 150
    assert len({u["commune"] for u in units}) >= 20
    rooms = Counter(int(u["rooms"]) for u in units)
    assert (rooms[2] + rooms[3]) / len(units) > 0.5
    assert sum(n for r, n in rooms.items() if r >= 5) / len(units) < 0.15
    assert len({u["landlord"] for u in units}) in range(5, 9)


def test_households_have_realistic_compositions(households: list[dict]) -> None:  # type: ignore[type-arg]
    """200+ households: many single adults, some large families (8+), about half working,
    about a tenth with health needs, resources from minimum income to about minimum wage."""
    assert len(households) >= 200
    sizes = [h["adults"] + len(h["children_ages"]) for h in households]
    assert sizes.count(1) / len(sizes) > 0.3
    assert max(sizes) >= 8
    working = sum(1 for h in households if h["workplaces"]) / len(households)
    assert 0.4 < working < 0.6
    health = sum(1 for h in households if h["needs"]) / len(households)
    assert 0.05 < health < 0.15
    singles = [
        h["monthly_resources_eur"]
        for h in households
        if h["adults"] == 1 and not h["children_ages"]
    ]
    assert min(singles) >= 600
    assert max(singles) <= 1500


def test_generator_reproduces_the_committed_files(fixtures_dir: Path, tmp_path: Path) -> None:
    """The seeded generator, run again, writes byte-for-byte the committed fixtures."""
    subprocess.run(
        [sys.executable, str(fixtures_dir / "generate.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in ("landlords.csv", "units.csv", "households.json"):
        assert (tmp_path / name).read_bytes() == (fixtures_dir / name).read_bytes(), name
