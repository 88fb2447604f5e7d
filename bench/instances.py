"""Seeded generators of realistic benchmark rounds, as round-file JSON documents.

- `departement`: households and units spread over the communes of the Puy-de-Dome, weighted by
  population (the shipped gazetteer), as in a prefecture's round;
- `national`: the same mix spread around the main cities of several regions.
Compositions, resources, rents and needs follow fixtures/generate.py in spirit, at scale.
"""

from __future__ import annotations

import csv
import math
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

GAZETTEER = Path(__file__).resolve().parent.parent / "fixtures" / "gazetteer_63.csv"
ROUND_DATE = date(2026, 12, 1)
REGIONAL_CENTRES = [  # (lat, lon, weight): metropolitan areas of several regions
    (48.8566, 2.3522, 30),  # Ile-de-France
    (45.7640, 4.8357, 12),  # Auvergne-Rhone-Alpes
    (43.2965, 5.3698, 10),  # Provence-Alpes-Cote d'Azur
    (50.6292, 3.0573, 9),  # Hauts-de-France
    (43.6047, 1.4442, 8),  # Occitanie
    (44.8378, -0.5792, 7),  # Nouvelle-Aquitaine
    (47.2184, -1.5536, 6),  # Pays de la Loire
    (48.5734, 7.7521, 6),  # Grand Est
]


def _communes() -> list[tuple[str, float, float, int]]:
    with GAZETTEER.open(encoding="utf-8") as handle:
        seen: dict[str, tuple[str, float, float, int]] = {}
        for row in csv.DictReader(handle):
            seen.setdefault(
                row["insee_code"],
                (row["name"], float(row["lat"]), float(row["lon"]), int(row["population"])),
            )
    return list(seen.values())


class Places:
    def __init__(self, rng: random.Random, scale: str) -> None:
        self.rng = rng
        self.scale = scale
        self.communes = _communes()
        self.weights = [max(1, c[3]) for c in self.communes]

    def draw(self) -> tuple[str, float, float]:
        if self.scale == "departement":
            name, lat, lon, _ = self.rng.choices(self.communes, weights=self.weights)[0]
            return name, lat + self.rng.gauss(0, 0.008), lon + self.rng.gauss(0, 0.011)
        lat, lon, _ = self.rng.choices(REGIONAL_CENTRES, weights=[c[2] for c in REGIONAL_CENTRES])[
            0
        ]
        spread = abs(self.rng.gauss(0, 0.25))  # about 28 km per 0.25 degree
        angle = self.rng.uniform(0, 2 * math.pi)
        commune = f"C{round(lat + spread * math.sin(angle), 2)}"
        return (
            commune,
            lat + spread * math.sin(angle),
            lon + spread * math.cos(angle) / math.cos(math.radians(lat)),
        )


def _household(rng: random.Random, places: Places, index: int) -> dict[str, Any]:
    kind = rng.choices(range(5), weights=[45, 8, 25, 12, 10])[0]
    adults, couple, children = [
        (1, False, 0),
        (2, True, 0),
        (2, True, rng.choices(range(1, 9), weights=[20, 25, 20, 14, 9, 6, 4, 2])[0]),
        (1, False, rng.choices(range(1, 6), weights=[35, 30, 20, 10, 5])[0]),
        (rng.choice([2, 2, 3]), False, rng.choice([0, 0, 1, 2])),
    ][kind]
    workers = 0 if rng.random() < 0.5 else (1 if adults == 1 or rng.random() < 0.75 else 2)
    workplaces = []
    for _ in range(workers):
        _, lat, lon = places.draw()
        workplaces.append({"lat": round(lat, 5), "lon": round(lon, 5)})
    others = adults - 1 + children
    wages = sum(1426 * rng.uniform(0.5, 1.0) for _ in range(workers))
    resources = max(646 * (1 + 0.5 * min(others, 2) + 0.4 * max(0, others - 2)), wages)
    resources += 140 * max(0, children - 1)
    needs: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.02:
        needs["wheelchair"] = True
    elif roll < 0.07:
        needs["reduced_mobility"] = True
    household: dict[str, Any] = {
        "id": f"H{index}",
        "adults": adults,
        "couple": couple,
        "children_ages": [rng.randint(0, 17) for _ in range(children)],
        "monthly_resources_eur": round(resources, 2),
        "housing_benefit_eur": round(max(0.0, 120 + 70 * (adults + children) - 0.12 * wages), 2),
        "workplaces": workplaces,
        "needs": needs,
        "registered_on": (ROUND_DATE - timedelta(days=rng.randint(5, 700))).isoformat(),
        "urgent": rng.random() < 0.1,
    }
    if rng.random() < 0.12:
        household["accepted_lease_kinds"] = ["sliding", "intermediation"]
    return household


SURFACE = {1: (22, 33), 2: (38, 52), 3: (54, 70), 4: (68, 86), 5: (84, 102), 6: (98, 120)}


def _unit(rng: random.Random, places: Places, index: int) -> dict[str, Any]:
    commune, lat, lon = places.draw()
    rooms = rng.choices(range(1, 7), weights=[10, 30, 33, 18, 7, 2])[0]
    surface = round(rng.uniform(*SURFACE[rooms]), 1)
    floor = rng.randint(0, 9)
    elevator = floor >= 4 or (floor >= 2 and rng.random() < 0.4)
    return {
        "id": f"U{index}",
        "building_id": f"B{index // 8}",
        "commune": commune,
        "lat": round(lat, 5),
        "lon": round(lon, 5),
        "rooms": rooms,
        "surface_m2": surface,
        "floor": floor,
        "elevator": elevator,
        "wheelchair_accessible": (floor <= 0 or elevator) and rng.random() < 0.12,
        "rent_eur": round(surface * rng.uniform(5.2, 7.2), 2),
        "charges_eur": round(surface * rng.uniform(0.9, 2.0), 2),
        "in_priority_neighbourhood": rng.random() < 0.3,
        "lease_kind": rng.choices(["direct", "sliding", "intermediation"], weights=[80, 12, 8])[0],
        "available_from": (ROUND_DATE + timedelta(days=rng.randint(-45, 75))).isoformat(),
    }


def make_round(households: int, units: int, scale: str, seed: int, **policy: Any) -> dict[str, Any]:
    rng = random.Random(seed)
    places = Places(rng, scale)
    return {
        "households": [_household(rng, places, i) for i in range(households)],
        "units": [_unit(rng, places, i) for i in range(units)],
        "policy": {"round_date": ROUND_DATE.isoformat(), **policy},
    }


def api_records(document: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The units and households of a generated round as the import routes take them
    (coordinates given, so nothing is geocoded)."""
    units = [
        {key: value for key, value in u.items() if key != "id"}
        | {"reference": u["id"], "postcode": "63000"}
        for u in document["units"]
    ]
    households = [
        {key: value for key, value in h.items() if key != "id"}
        | {"reference": h["id"]}
        | ({"urgent_reason": "generated"} if h["urgent"] else {})
        for h in document["households"]
    ]
    return units, households
