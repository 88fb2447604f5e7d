"""Geocoding: an offline gazetteer by default, geopy's online geocoders on demand.

The offline geocoder resolves a commune (name, postcode, or "street, postcode commune") to the
commune's coordinates. It is deliberately commune-level: for the matcher's commute and care
distances at the scale of a departement this is the precision that matters, and it needs no
network. Street-level precision is available through BAN (see ECOSYSTEM notes on addok).
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from services.settings import GeocoderKind, Settings

if TYPE_CHECKING:
    from geopy.geocoders.base import Geocoder as GeopyGeocoder

POSTCODE = re.compile(r"\b(\d{5})\b")


class Geocoder(Protocol):
    """What the service needs of a geocoder. geopy is loaded only by the online ones: the
    offline default answers without it (geopy was 0.1 s of a small `housing-match solve`)."""

    def locate(self, query: str) -> tuple[float, float]:
        """The place's latitude and longitude, or GeocodingError."""
        ...


class GeocodingError(ValueError):
    """A place could not be resolved; the message says why and what was close."""

    def __init__(self, query: str, reason: str, suggestions: list[str]) -> None:
        self.query = query
        self.reason = reason
        self.suggestions = suggestions
        hint = f"; candidates: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"cannot geocode {query!r}: {reason}{hint}")


@dataclass(frozen=True, slots=True)
class Commune:
    insee_code: str
    name: str
    postcodes: tuple[str, ...]
    lat: float
    lon: float
    approximate: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({', '.join(self.postcodes)})"


def normalise(text: str) -> str:
    """Lower-case ASCII words: 'Saint-Ours-les-Roches' and 'saint ours les roches' agree."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"\bst\b", "saint", ascii_text.lower())
    ascii_text = re.sub(r"\bste\b", "sainte", ascii_text)
    return re.sub(r"[^a-z0-9]+", " ", ascii_text).strip()


class Gazetteer:
    """Communes indexed by normalised name and by postcode."""

    def __init__(self, communes: list[Commune]) -> None:
        self.communes = communes
        self._by_name: dict[str, list[Commune]] = {}
        self._by_postcode: dict[str, list[Commune]] = {}
        for commune in communes:
            self._by_name.setdefault(normalise(commune.name), []).append(commune)
            for postcode in commune.postcodes:
                self._by_postcode.setdefault(postcode, []).append(commune)

    @classmethod
    def from_csv(cls, path: Path) -> Gazetteer:
        merged: dict[str, dict[str, Any]] = {}
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                entry = merged.setdefault(row["insee_code"], {**row, "postcodes": []})
                entry["postcodes"].append(row["postcode"])
        return cls(
            [
                Commune(
                    insee_code=code,
                    name=row["name"],
                    postcodes=tuple(row["postcodes"]),
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    approximate=row["approximate"] == "1",
                )
                for code, row in merged.items()
            ]
        )

    def resolve(self, query: str) -> Commune:
        """The one commune a query names, or a GeocodingError listing the closest names."""
        postcode_match = POSTCODE.search(query)
        postcode = postcode_match.group(1) if postcode_match else None
        text = normalise(POSTCODE.sub(" ", query))
        by_postcode = self._by_postcode.get(postcode, []) if postcode else []

        if postcode and not by_postcode:
            raise GeocodingError(query, f"unknown postcode {postcode}", self._closest(text))
        if len(by_postcode) == 1:
            return by_postcode[0]
        candidates = by_postcode or self.communes
        # The commune name is the tail of the text ("12 rue X, 63100 Clermont-Ferrand"),
        # so try the longest tail that names a commune.
        words = text.split()
        for start in range(len(words)):
            tail = " ".join(words[start:])
            named = [c for c in self._by_name.get(tail, []) if c in candidates]
            if len(named) == 1:
                return named[0]
            if len(named) > 1:
                raise GeocodingError(query, "ambiguous: add the postcode", [c.label for c in named])
        if by_postcode:
            raise GeocodingError(
                query,
                f"postcode {postcode} covers several communes: add the commune name",
                [c.label for c in by_postcode],
            )
        raise GeocodingError(query, "unknown commune", self._closest(text))

    def _closest(self, text: str) -> list[str]:
        names = difflib.get_close_matches(text, list(self._by_name), n=5, cutoff=0.6)
        return [c.label for name in names for c in self._by_name[name]]


class GazetteerGeocoder:
    """Answers from the shipped gazetteer, without any network: a commune's coordinates."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    def locate(self, query: str) -> tuple[float, float]:
        commune = self.gazetteer.resolve(query)
        return commune.lat, commune.lon


class OnlineGeocoder:
    """One of geopy's geocoders (BAN, Nominatim), its silences and failures as
    GeocodingError naming the place."""

    def __init__(self, geocoder: GeopyGeocoder) -> None:
        self.geocoder = geocoder

    def locate(self, query: str) -> tuple[float, float]:
        from geopy.exc import GeopyError

        try:
            location = self.geocoder.geocode(query)
        except GeopyError as error:
            raise GeocodingError(
                query, f"the geocoder failed ({type(error).__name__})", []
            ) from error
        if location is None:
            raise GeocodingError(query, "no result from the geocoder", [])
        return float(location.latitude), float(location.longitude)


@lru_cache(maxsize=4)
def load_gazetteer(path: Path) -> Gazetteer:
    return Gazetteer.from_csv(path)


def make_geocoder(settings: Settings) -> Geocoder:
    if settings.geocoder is GeocoderKind.OFFLINE:
        return GazetteerGeocoder(load_gazetteer(settings.gazetteer_path))
    from geopy.geocoders import BANFrance, Nominatim

    if settings.geocoder is GeocoderKind.BAN:
        if settings.geocoder_domain:
            return OnlineGeocoder(BANFrance(domain=settings.geocoder_domain, scheme="http"))
        return OnlineGeocoder(BANFrance())
    return OnlineGeocoder(
        Nominatim(
            user_agent=settings.geocoder_user_agent,
            domain=settings.geocoder_domain or "nominatim.openstreetmap.org",
        )
    )
