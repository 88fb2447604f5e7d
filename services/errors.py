"""Domain errors. They carry no HTTP: api/errors.py maps each to a status and a problem body."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of the errors a use case raises on purpose."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row of an import: which file, which row, which field, and what;
    for a table, the column as the file names it and the value found there."""

    source: str
    row: int  # a table: line number in the file (header = 1); JSON: index in the array
    field: str
    message: str
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        if self.column is None:
            where = f"item {self.row}" if self.source.endswith(".json") else f"line {self.row}"
            return f"{self.source}, {where}, field {self.field!r}: {self.message}"
        found = "empty" if self.value is None else repr(self.value)
        return f"{self.source}, line {self.row}, column {self.column!r} ({found}): {self.message}"


class InvalidImport(DomainError):
    """An import was refused as a whole; nothing of it was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.source, e.row))
        errors = self.errors
        shown = "\n".join(f"  {error}" for error in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s), nothing imported:\n{shown}{more}")


class NotFound(DomainError):
    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class Unauthenticated(DomainError):
    """No valid API key: missing, unknown or revoked."""


class Forbidden(DomainError):
    """The key's role may not do this."""


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a stale version...)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class InvalidInput(DomainError):
    """A value is well-formed but unusable (an address that cannot be geocoded...)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class StaleRound(Conflict):
    """Households or units changed since the round read them: publishing would be unsafe."""

    def __init__(self, round_id: int, changed: list[str]) -> None:
        self.changed = changed
        super().__init__(
            f"round {round_id} is stale, nothing was published; changed since it was solved: "
            + ", ".join(changed)
        )
