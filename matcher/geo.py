"""Great-circle distances (haversine on a sphere of the mean Earth radius, 6371.0088 km).

Commute and care distances are measured as the crow flies: an honest, cheap stand-in for travel
time that the policy's thresholds are calibrated against. The error against the ellipsoid
(geodesic) is under 0.5%, far below what separates a 40 km from a 45 km threshold.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_km_many(
    lat: float, lon: float, lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Distances from one point to many, vectorised (same formula as haversine_km)."""
    phi1 = math.radians(lat)
    phi2 = np.radians(lats)
    dphi = phi2 - phi1
    dlambda = np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2) ** 2
    result: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


def reach_box(lat: float, km: float) -> tuple[float, float]:
    """Half-widths in degrees of latitude and longitude of a box around a point at `lat`
    that holds every point within `km` of it (longitude: inf where the box would span every
    longitude). From hav(d/R) = hav(dphi) + cos(phi1) cos(phi2) hav(dlambda) >= each term;
    widened by a hair so that rounding never leaves out a point exactly at `km`."""
    angle = (km * (1 + 1e-9) + 1e-6) / EARTH_RADIUS_KM
    half_lat = math.degrees(angle)
    edge = abs(lat) + half_lat  # the farthest latitude from the equator in the box
    if angle >= math.pi / 2 or edge >= 90:
        return half_lat, math.inf
    bound = math.sin(angle / 2) ** 2 / (math.cos(math.radians(lat)) * math.cos(math.radians(edge)))
    if bound >= 1:
        return half_lat, math.inf
    return half_lat, math.degrees(2 * math.asin(math.sqrt(bound)))
