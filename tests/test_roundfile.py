"""The public round format: committed schemas are current, and input is checked strictly."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from services.geocoding import GazetteerGeocoder
from services.roundfile import InvalidRoundFile, input_schema, result_schema, solve_round_text

TODAY = date(2026, 12, 1)
DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize(
    ("name", "schema"),
    [("round-input.schema.json", input_schema), ("round-result.schema.json", result_schema)],
)
def test_committed_schemas_are_current(name: str, schema) -> None:  # type: ignore[no-untyped-def]
    """docs/*.schema.json are what the code validates and produces (regenerate if not)."""
    assert json.loads((DOCS / name).read_text()) == schema()


def minimal_round(**policy: object) -> dict:  # type: ignore[type-arg]
    return {
        "households": [
            {"id": "h1", "adults": 1, "monthly_resources_eur": 900, "registered_on": "2026-01-01"}
        ],
        "units": [
            {
                "id": "u1",
                "commune": "Riom",
                "postcode": "63200",
                "rooms": 1,
                "surface_m2": 28,
                "rent_eur": 200,
                "available_from": "2026-11-01",
            }
        ],
        "policy": {"round_date": "2026-12-01", **policy},
    }


def test_units_without_coordinates_are_geocoded(geocoder: GazetteerGeocoder) -> None:
    """A unit given by commune and postcode is placed by the offline geocoder and matched."""
    result = solve_round_text(json.dumps(minimal_round()), lambda: geocoder, TODAY)
    assert [(m["household"], m["unit"]) for m in result["matches"]] == [("h1", "u1")]


def test_strings_are_not_numbers(geocoder: GazetteerGeocoder) -> None:
    """Strict parsing: "900" is not accepted for a number, and the path says where."""
    document = minimal_round()
    document["households"][0]["monthly_resources_eur"] = "900"
    with pytest.raises(InvalidRoundFile) as caught:
        solve_round_text(json.dumps(document), lambda: geocoder, TODAY)
    assert caught.value.problems[0][0] == "$.households[0].monthly_resources_eur"


def test_unknown_fields_and_duplicate_ids_are_refused(geocoder: GazetteerGeocoder) -> None:
    """A misspelt field is an error, not silently ignored; so is a repeated id."""
    document = minimal_round()
    document["units"][0]["room"] = 3
    with pytest.raises(InvalidRoundFile, match=r"\$\.units\[0\]\.room"):
        solve_round_text(json.dumps(document), lambda: geocoder, TODAY)
    document = minimal_round()
    document["households"].append(dict(document["households"][0]))
    with pytest.raises(InvalidRoundFile, match=r"\$\.households\[1\]\.id: duplicate id 'h1'"):
        solve_round_text(json.dumps(document), lambda: geocoder, TODAY)


def test_policy_out_of_range_names_the_field(geocoder: GazetteerGeocoder) -> None:
    """A quota share above 1 is refused with the path of the field."""
    document = minimal_round(income_quota={"share": 1.5, "threshold_eur_per_consumption_unit": 1})
    with pytest.raises(InvalidRoundFile, match=r"\$\.policy\.income_quota\.share"):
        solve_round_text(json.dumps(document), lambda: geocoder, TODAY)


def test_quota_share_finer_than_its_resolution_is_refused(geocoder: GazetteerGeocoder) -> None:
    """A share the solver could only enforce rounded (0.3333) is refused, at its path."""
    document = minimal_round(
        income_quota={"share": 0.3333, "threshold_eur_per_consumption_unit": 9000}
    )
    with pytest.raises(InvalidRoundFile, match=r"\$\.policy\.income_quota\.share.*0\.1%"):
        solve_round_text(json.dumps(document), lambda: geocoder, TODAY)


def test_unknown_commune_names_the_unit_path(geocoder: GazetteerGeocoder) -> None:
    """A unit in an unknown commune is refused with its JSON path and close names."""
    document = minimal_round()
    document["units"][0]["commune"] = "Rion"
    document["units"][0]["postcode"] = ""
    with pytest.raises(InvalidRoundFile, match=r"\$\.units\[0\]: cannot geocode 'Rion'"):
        solve_round_text(json.dumps(document), lambda: geocoder, TODAY)


def test_a_quota_is_a_threshold_or_the_first_quartile(geocoder: GazetteerGeocoder) -> None:
    """The quota as French law writes it (the round's poorest quarter) is accepted and its
    threshold reported; giving both definitions, or neither, is refused at the quota's path."""
    document = minimal_round(income_quota={"share": 0.25, "first_quartile": True})
    result = solve_round_text(json.dumps(document), lambda: geocoder, TODAY)
    effect = result["stats"]["income_quota"]
    assert effect["low_income_households"] == 1  # the one household is its own quarter
    assert effect["threshold_eur_per_consumption_unit"] == pytest.approx(12 * 900, abs=0.01)
    for quota in (
        {"share": 0.25, "first_quartile": True, "threshold_eur_per_consumption_unit": 9000},
        {"share": 0.25},
    ):
        with pytest.raises(InvalidRoundFile, match=r"\$\.policy\.income_quota"):
            solve_round_text(json.dumps(minimal_round(income_quota=quota)), lambda: geocoder, TODAY)
