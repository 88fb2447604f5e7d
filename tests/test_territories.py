"""Territories: département codes as coordinators and spreadsheets write them, the postcodes
of a département, and which communes a territory keeps."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.territories import ScopedPolicyIn, TerritoryIn, postcode_prefixes


@pytest.mark.parametrize(
    ("written", "code"),
    [("63", "63"), ("1", "01"), (" 01 ", "01"), ("2a", "2A"), ("2B", "2B"), ("974", "974")],
)
def test_a_departement_is_read_as_written(written: str, code: str) -> None:
    """A code lost its leading zero in a spreadsheet, or Corsica was written in lower case:
    the département is still recognised."""
    assert TerritoryIn(departements=[written]).departements == [code]


@pytest.mark.parametrize("written", ["20", "00", "0", "96", "977", "A", "630", ""])
def test_what_is_no_departement_is_refused(written: str) -> None:
    """Corsica's old 20, codes out of the list and communes' postcodes are refused, naming
    the code."""
    with pytest.raises(ValidationError) as refused:
        TerritoryIn(departements=[written])
    assert refused.value.errors()[0]["loc"] == ("departements", 0)


def test_a_territory_has_a_departement() -> None:
    """Communes alone name no territory: their département says whose households they get."""
    with pytest.raises(ValidationError):
        TerritoryIn(departements=[], communes=["Riom"])


@pytest.mark.parametrize(
    ("departement", "prefixes"),
    [
        ("63", ("63",)),
        ("974", ("974",)),
        ("2A", ("200", "201")),
        ("2B", ("202", "203", "204", "205", "206")),
    ],
)
def test_the_postcodes_of_a_departement(departement: str, prefixes: tuple[str, ...]) -> None:
    """A département's postcodes start with its code, but Corsica's two share 20."""
    assert postcode_prefixes(departement) == prefixes


def test_communes_are_compared_as_the_matcher_compares_them() -> None:
    """Case and hyphens aside, a listed commune keeps its units; another does not."""
    keeps = TerritoryIn(departements=["63"], communes=["Clermont-Ferrand", "aubière"]).in_communes()
    assert keeps("clermont ferrand")
    assert keeps("Aubière")
    assert not keeps("Riom")
    assert TerritoryIn(departements=["63"]).in_communes()("Riom")


def test_a_territory_is_labelled_for_the_report() -> None:
    """The report names the départements, and the communes when the units are narrowed."""
    assert TerritoryIn(departements=["63", "03"]).label() == "63, 03"
    narrowed = TerritoryIn(departements=["63"], communes=["Riom", "Volvic"])
    assert narrowed.label() == "63 (Riom, Volvic)"


def test_a_scoped_policy_is_stored_and_read_back() -> None:
    """The territory travels with the round's policy through its JSON in the database."""
    policy = ScopedPolicyIn.model_validate({"territory": {"departements": ["63"]}})
    stored = policy.model_dump(mode="json")
    assert ScopedPolicyIn.model_validate(stored).territory == TerritoryIn(departements=["63"])


def test_the_listed_communes_without_units_are_found() -> None:
    """Compared as names are, case and hyphens aside; a territory without communes lacks none."""
    narrowed = TerritoryIn(departements=["63"], communes=["Riom", "Volvic", "Clermont-Ferand"])
    assert narrowed.communes_without_units(["riom", "Clermont-Ferrand"]) == [
        "Volvic",
        "Clermont-Ferand",
    ]
    assert TerritoryIn(departements=["63"]).communes_without_units([]) == []
