"""Telling a database outage from a bad query, and waiting one out."""

from django.db import InterfaceError, OperationalError


def database_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the database is not answering now", not a bad query."""
    return isinstance(exc, InterfaceError | OperationalError)


class Backoff:
    """Waits that double from `first` to `longest` seconds; `reset` after a success."""

    def __init__(self, first: float = 0.5, longest: float = 10.0) -> None:
        self.first = first
        self.longest = longest
        self.wait = first

    def next(self) -> float:
        wait = self.wait
        self.wait = min(self.wait * 2, self.longest)
        return wait

    def reset(self) -> None:
        self.wait = self.first
