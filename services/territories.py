"""Territories a round may be scoped to, so that the prefectures of a national deployment run
their rounds side by side without reading each other's households and units.

In France a territory is a list of départements, optionally narrowed to some of their
communes. A household belongs to the département whose service follows it (its `territory`,
given by the coordinator: it has no address of its own while it waits); a unit to the
département of its postcode. A household without a territory is in every round that is not
scoped, and in no scoped round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from matcher.rules import normalise_commune
from services.roundfile import PolicyIn

# Metropolitan départements (Corsica as 2A and 2B, not 20) and the overseas ones.
DEPARTEMENT_PATTERN = r"^(0[1-9]|1[0-9]|2[1-9]|2A|2B|[3-8][0-9]|9[0-5]|97[1-6])$"


def _as_written(code: object) -> object:
    # A spreadsheet reads the Ain's 01 as the number 1; Corsica is written 2a as often as 2A.
    if isinstance(code, str):
        code = code.strip().upper()
        return code.zfill(2) if code.isdigit() and len(code) == 1 else code
    return code


Departement = Annotated[
    str, BeforeValidator(_as_written), Field(pattern=DEPARTEMENT_PATTERN, examples=["63"])
]
# What a filter of households writes for "followed by no département yet" (households stored
# before territories existed, or imported without one): no scoped round reads them.
NO_TERRITORY = "none"
TERRITORY_FILTER_PATTERN = DEPARTEMENT_PATTERN.replace("^(", f"^({NO_TERRITORY}|")
# Corsica's postcodes start 20 in both départements: 200xx-201xx are Corse-du-Sud.
CORSICA_POSTCODE_PREFIXES = {"2A": ("200", "201"), "2B": ("202", "203", "204", "205", "206")}


def postcode_prefixes(departement: str) -> tuple[str, ...]:
    """The beginnings of the postcodes of a département's communes."""
    return CORSICA_POSTCODE_PREFIXES.get(departement, (departement,))


class TerritoryIn(BaseModel):
    """Where a round over the database looks: the households followed in these départements
    and the vacant units in them, or only in the communes listed."""

    model_config = ConfigDict(extra="forbid", strict=True)

    departements: list[Departement] = Field(
        min_length=1,
        max_length=101,
        description="Département codes (63, 2A, 974): the households they follow, their units",
    )
    communes: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        max_length=1_000,
        description="When given, only the units in these communes (case and hyphens aside); "
        "the households are still all the départements'",
    )

    def label(self) -> str:
        """'63, 03 (Clermont-Ferrand, Aubière)': the territory as a report names it."""
        communes = f" ({', '.join(self.communes)})" if self.communes else ""
        return ", ".join(self.departements) + communes

    def communes_without_units(self, communes_read: Iterable[str]) -> list[str]:
        """The listed communes where a round read no vacant unit: a name misspelt, or a
        commune with nothing to offer today; the round says so rather than stay silent."""
        read = {normalise_commune(name) for name in communes_read}
        return [name for name in self.communes if normalise_commune(name) not in read]

    def in_communes(self) -> Callable[[str], bool]:
        """Whether a unit of the départements, in a commune of that name, is in the
        territory (names compared as the matcher compares them)."""
        if not self.communes:
            return lambda _: True
        names = {normalise_commune(name) for name in self.communes}
        return lambda commune: normalise_commune(commune) in names


class ScopedPolicyIn(PolicyIn):
    """A round over the database: a policy, and the territory it reads (a round file has
    its own households and units, so its policy has none)."""

    territory: TerritoryIn | None = Field(
        default=None, description="Only this territory's households and units (absent: all)"
    )
