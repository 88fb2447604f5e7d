"""The service's one clock: what time and what day it is, for every rule that depends on
it (response deadlines, expiry, sessions, reaping, retention, a round's default date).

It is read at the edges only: the app holds one (`app.state.clock`, the `Now` dependency),
the worker and the command line each take one, and they pass times and days to the
services as values. Tests give the app or the worker a `FixedClock`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


class Clock:
    """The system's clock: instants in UTC, days in the server's own time zone."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return date.today()


@dataclass(frozen=True)
class FixedClock(Clock):
    """A clock stopped at one instant (its day is that instant's, in UTC)."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()


SYSTEM_CLOCK = Clock()
