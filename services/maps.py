"""Maps drawn without a tile server: places projected onto an SVG canvas, communes labelled,
a scale bar. Used by the round report and the units page; nothing is fetched from anywhere.

The projection is equirectangular around the middle latitude: exact enough for distances
read off a département or a region, and simple to check.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

KM_PER_DEGREE = 111.32
WIDTH, HEIGHT, MARGIN = 900, 620, 24
SCALE_STEPS_KM = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


@dataclass(frozen=True, slots=True)
class Projection:
    """Latitude and longitude to pixels of a WIDTH x HEIGHT canvas that holds every point."""

    min_lat: float
    min_lon: float
    squeeze: float  # cos(middle latitude): a degree of longitude is that much shorter
    pixels_per_degree: float

    @classmethod
    def fitting(cls, points: Iterable[tuple[float, float]]) -> Projection | None:
        """The projection that fits the points, or None if there are none."""
        listed = list(points)
        if not listed:
            return None
        lats, lons = [p[0] for p in listed], [p[1] for p in listed]
        squeeze = math.cos(math.radians((min(lats) + max(lats)) / 2))
        width_deg = max((max(lons) - min(lons)) * squeeze, 1e-3)
        height_deg = max(max(lats) - min(lats), 1e-3)
        pixels = min((WIDTH - 2 * MARGIN) / width_deg, (HEIGHT - 2 * MARGIN) / height_deg)
        return cls(min(lats), min(lons), squeeze, pixels)

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        x = MARGIN + (lon - self.min_lon) * self.squeeze * self.pixels_per_degree
        y = HEIGHT - MARGIN - (lat - self.min_lat) * self.pixels_per_degree
        return round(x, 1), round(y, 1)

    def scale_bar(self) -> tuple[float, int]:
        """A round distance about a fifth of the width: its length in pixels, and its km."""
        km_per_pixel = KM_PER_DEGREE / self.pixels_per_degree
        wanted = WIDTH / 5 * km_per_pixel
        km = max([step for step in SCALE_STEPS_KM if step <= wanted] or [1])
        return round(km / km_per_pixel, 1), km


def commune_labels(
    projection: Projection, places: Iterable[tuple[str, float, float]], most: int
) -> list[tuple[float, float, str]]:
    """The `most` communes with the most places, labelled at the middle of their places."""
    by_commune: dict[str, list[tuple[float, float]]] = {}
    for commune, lat, lon in places:
        by_commune.setdefault(commune, []).append((lat, lon))
    largest = sorted(by_commune.items(), key=lambda item: (-len(item[1]), item[0]))[:most]
    return [
        (
            *projection.xy(
                statistics.fmean(p[0] for p in members), statistics.fmean(p[1] for p in members)
            ),
            commune,
        )
        for commune, members in largest
    ]


def every_nth(items: list[T], most: int) -> list[T]:
    """At most `most` of the items, evenly spread (a national round has 50,000 units)."""
    return items[:: max(1, math.ceil(len(items) / most))]
