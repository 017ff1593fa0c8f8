"""The registry of outbox handlers: one function per kind of outside call."""

from collections.abc import Callable
from typing import Any

OutboxHandler = Callable[[dict[str, Any]], dict[str, Any] | None]
HANDLERS: dict[str, OutboxHandler] = {}


class OutboxRetry(Exception):
    """The call could not be made now; try again after `after` seconds (e.g. a 429)."""

    def __init__(self, message: str, *, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class OutboxFailed(Exception):
    """The call can never succeed (bad payload, unknown channel); stop trying."""


def outbox_handler(action: str) -> Callable[[OutboxHandler], OutboxHandler]:
    """Register the function that makes the outside call for *action*.

    The handler gets the item's payload and returns a JSON-able result (kept on the
    item), raises OutboxRetry for a temporary failure or OutboxFailed for a permanent one.
    """

    def register(function: OutboxHandler) -> OutboxHandler:
        HANDLERS[action] = function
        return function

    return register
