"""The units of a round as numpy columns, sorted so that rules become slices and masks.

Rows are sorted by rooms (the room rules make each household's compatible units one
contiguous slice), then by unit class and cost (matcher/chains.py), with a spatial index: the
rows of each number of rooms sorted by latitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from numpy.typing import NDArray

from matcher.chains import ChainLayout, class_chains
from matcher.geo import reach_box
from matcher.rules import normalise_commune
from matcher.types import Instance, Policy

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Rows = slice | IntArray  # unit rows: a range, or sorted row numbers


@dataclass(frozen=True, slots=True)
class UnitTable:
    """Unit attributes as columns, rows sorted by rooms, then class and cost; `unit_index`
    maps a row back."""

    unit_index: IntArray
    rooms: IntArray
    surface: FloatArray
    lat: FloatArray
    lon: FloatArray
    step_free: BoolArray
    wheelchair: BoolArray
    cost: FloatArray
    commune_code: IntArray
    lease_code: IntArray
    available: BoolArray
    row_of_unit: IntArray
    commune_codes: dict[str, int]
    lease_codes: dict[str, int]
    in_priority_neighbourhood: BoolArray
    classes: ChainLayout  # one chain per class of the available units (chain id = class id)
    unit_class: IntArray  # per unit, its class (-1: in no chain)
    class_position: IntArray  # per unit, its rank by cost in its class
    chain: IntArray  # per row, its unit's class (-1: in no chain)
    class_starts: IntArray  # the rows where a class (or the rows in no chain) begins
    by_latitude: IntArray  # the rows sorted by rooms, then latitude: a spatial index

    @classmethod
    def build(cls, instance: Instance, policy: Policy) -> UnitTable:
        units = instance.units
        last_day = policy.round_date + timedelta(days=policy.horizon_days)
        available = np.array([u.available_from <= last_day for u in units], dtype=np.bool_)
        classes, unit_class, class_position = class_chains(units, available)
        rooms = np.array([u.rooms for u in units], dtype=np.int64)
        order = np.lexsort((np.arange(len(units)), class_position, unit_class, rooms))
        ordered = [units[i] for i in order]
        lats = np.array([u.lat for u in ordered], dtype=np.float64)
        commune_codes: dict[str, int] = {}
        lease_codes: dict[str, int] = {}
        row_of_unit = np.empty(len(units), dtype=np.int64)
        row_of_unit[order] = np.arange(len(units))
        return cls(
            unit_index=order,
            rooms=rooms[order],
            surface=np.array([u.surface_m2 for u in ordered], dtype=np.float64),
            lat=lats,
            lon=np.array([u.lon for u in ordered], dtype=np.float64),
            step_free=np.array([u.floor <= 0 or u.elevator for u in ordered], dtype=np.bool_),
            wheelchair=np.array([u.wheelchair_accessible for u in ordered], dtype=np.bool_),
            cost=np.array([u.monthly_cost_eur for u in ordered], dtype=np.float64),
            commune_code=np.array(
                [
                    commune_codes.setdefault(normalise_commune(u.commune), len(commune_codes))
                    for u in ordered
                ],
                dtype=np.int64,
            ),
            lease_code=np.array(
                [lease_codes.setdefault(u.lease_kind, len(lease_codes)) for u in ordered],
                dtype=np.int64,
            ),
            available=available[order],
            row_of_unit=row_of_unit,
            commune_codes=commune_codes,
            lease_codes=lease_codes,
            in_priority_neighbourhood=np.array(
                [u.in_priority_neighbourhood for u in ordered], dtype=np.bool_
            ),
            classes=classes,
            unit_class=unit_class,
            class_position=class_position,
            chain=unit_class[order],
            class_starts=np.flatnonzero(group_starts(unit_class[order])),
            by_latitude=np.lexsort((np.arange(len(units)), lats, rooms[order])),
        )

    def rows_for_rooms(self, low: int, high: int) -> slice:
        """Rows whose unit has between low and high rooms (inclusive)."""
        start = int(np.searchsorted(self.rooms, low, side="left"))
        stop = int(np.searchsorted(self.rooms, high, side="right"))
        return slice(start, stop)

    def rows_near(self, rows: slice, places: list[tuple[float, float, float]]) -> IntArray:
        """The rows of `rows` (a range of rooms) that may lie within reach of every place
        (lat, lon, km), sorted: a latitude band found by binary search in the spatial index
        for each number of rooms, then a longitude band. Every row within reach is kept;
        the exact distances are checked after."""
        low = max(lat - reach_box(lat, km)[0] for lat, _, km in places)
        high = min(lat + reach_box(lat, km)[0] for lat, _, km in places)
        if low > high:
            return np.zeros(0, dtype=np.int64)
        lon_bands = [(lon, reach_box(lat, km)[1]) for lat, lon, km in places]
        found = []
        for rooms in range(int(self.rooms[rows.start]), int(self.rooms[rows.stop - 1]) + 1):
            same = self.rows_for_rooms(rooms, rooms)
            band = self.by_latitude[same]
            lats = self.lat[band]
            band = band[np.searchsorted(lats, low, "left") : np.searchsorted(lats, high, "right")]
            # filtered before the sort below, which then has a fraction of the rows to order
            for lon, half_lon in lon_bands:
                if math.isfinite(half_lon):
                    band = band[np.abs((self.lon[band] - lon + 180) % 360 - 180) <= half_lon]
            found.append(band)
        near: IntArray = np.sort(np.concatenate(found))
        return near

    def codes_of_communes(self, names: frozenset[str]) -> IntArray:
        """The codes of those of these communes that the table's units are in."""
        found = [
            self.commune_codes[n]
            for name in names
            if (n := normalise_commune(name)) in self.commune_codes
        ]
        return np.array(found, dtype=np.int64)


def group_starts(keys: IntArray) -> BoolArray:
    """Where a new value begins in a grouped array (as a mask)."""
    return np.r_[True, keys[1:] != keys[:-1]] if keys.size else np.zeros(0, dtype=np.bool_)
