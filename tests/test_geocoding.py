"""The offline geocoder over the shipped Puy-de-Dome gazetteer, and the online ones."""

from __future__ import annotations

import csv

import pytest

from services.geocoding import GazetteerGeocoder, GeocodingError, OnlineGeocoder, make_geocoder
from services.settings import GeocoderKind, Settings


def test_gazetteer_covers_the_departement(fixtures_dir) -> None:  # type: ignore[no-untyped-def]
    """Every commune of the Puy-de-Dome is there, with coordinates inside the departement."""
    with (fixtures_dir / "gazetteer_63.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    communes = {row["insee_code"] for row in rows}
    assert len(communes) == 463
    assert all(code.startswith("63") for code in communes)
    assert all(row["postcode"].startswith("63") for row in rows)
    assert all(45.2 < float(row["lat"]) < 46.3 and 2.3 < float(row["lon"]) < 4.0 for row in rows)


def test_commune_name_resolves_to_its_coordinates(geocoder: GazetteerGeocoder) -> None:
    """A commune name gives that commune's coordinates (Clermont-Ferrand's centre)."""
    lat, lon = geocoder.locate("Clermont-Ferrand")
    assert lat == pytest.approx(45.78, abs=0.02)
    assert lon == pytest.approx(3.08, abs=0.02)
    assert geocoder.gazetteer.resolve("Clermont-Ferrand").insee_code == "63113"


@pytest.mark.parametrize(
    ("query", "insee_code"),
    [
        ("63500 Issoire", "63178"),
        ("12 rue Blatin, 63000 Clermont-Ferrand", "63113"),
        ("st ours", "63381"),
        ("SAINT-OURS", "63381"),
        ("63100", "63113"),
        ("3 place de la Republique, Riom", "63300"),
    ],
)
def test_queries_with_postcode_street_or_spelling_variants(
    geocoder: GazetteerGeocoder, query: str, insee_code: str
) -> None:
    """Postcodes, street prefixes, case, accents and 'St' abbreviations are understood."""
    commune = geocoder.gazetteer.resolve(query)
    assert commune.insee_code == insee_code
    assert geocoder.locate(query) == (commune.lat, commune.lon)


def test_unknown_name_lists_the_closest_known(geocoder: GazetteerGeocoder) -> None:
    """A misspelt commune is refused, naming the communes it was probably meant to be."""
    with pytest.raises(GeocodingError) as caught:
        geocoder.locate("Clermon-Ferand")
    assert "unknown commune" in str(caught.value)
    assert any(s.startswith("Clermont-Ferrand") for s in caught.value.suggestions)


def test_postcode_shared_by_several_communes_is_ambiguous(geocoder: GazetteerGeocoder) -> None:
    """A postcode alone that covers several communes is refused, listing them."""
    with pytest.raises(GeocodingError) as caught:
        geocoder.locate("63260")
    assert "several communes" in caught.value.reason
    assert any(s.startswith("Aigueperse") for s in caught.value.suggestions)


def test_postcode_outside_the_gazetteer_is_refused(geocoder: GazetteerGeocoder) -> None:
    """A postcode the gazetteer does not know is an error, not a guess."""
    with pytest.raises(GeocodingError, match="unknown postcode 75001"):
        geocoder.locate("75001 Paris")


def test_online_geocoders_are_selectable_without_network() -> None:
    """The setting picks geopy's BANFrance or Nominatim (constructed, not called)."""
    for kind, name in ((GeocoderKind.BAN, "BANFrance"), (GeocoderKind.NOMINATIM, "Nominatim")):
        online = make_geocoder(Settings(geocoder=kind))
        assert isinstance(online, OnlineGeocoder)
        assert type(online.geocoder).__name__ == name
    assert isinstance(make_geocoder(Settings()), GazetteerGeocoder)


class Silent:
    """A geopy geocoder that finds nothing, or fails as a network does."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure

    def geocode(self, query: str) -> None:
        if self.failure is not None:
            raise self.failure


def test_an_online_geocoders_silence_or_failure_names_the_place() -> None:
    """No answer, or a timeout, is a GeocodingError about the place, not a crash."""
    from geopy.exc import GeocoderTimedOut

    with pytest.raises(GeocodingError, match="'Nowhere': no result from the geocoder"):
        OnlineGeocoder(Silent()).locate("Nowhere")
    with pytest.raises(GeocodingError, match=r"'Riom': the geocoder failed \(GeocoderTimedOut\)"):
        OnlineGeocoder(Silent(GeocoderTimedOut("slow"))).locate("Riom")
