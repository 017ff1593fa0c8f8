"""The registry of outbox handlers: one function per kind of outside call."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapport.core.outside import OutsideRefused, OutsideUnavailable

OutboxHandler = Callable[[dict[str, Any]], dict[str, Any] | None]
# Told of each try that did not succeed: (payload, error, final). `final` is True once the
# outbox gives up, so a user can see the failure and act on it.
OutboxFailureHook = Callable[[dict[str, Any], str, bool], None]


@dataclass(frozen=True)
class Registered:
    handler: OutboxHandler
    on_failure: OutboxFailureHook | None = None


HANDLERS: dict[str, Registered] = {}


class OutboxRetry(OutsideUnavailable):
    """The call could not be made now; try again after `after` seconds (e.g. a 429)."""


class OutboxFailed(OutsideRefused):
    """The call can never succeed (bad payload, unknown channel); stop trying."""


def outbox_handler(
    action: str, *, on_failure: OutboxFailureHook | None = None
) -> Callable[[OutboxHandler], OutboxHandler]:
    """Register the function that makes the outside call for *action*.

    The handler gets the item's payload and returns a JSON-able result (kept on the
    item), raises an OutsideUnavailable (OutboxRetry) for a temporary failure or an
    OutsideRefused (OutboxFailed) for a permanent one. *on_failure* is told of every try
    that failed, in its own short transaction.
    """

    def register(function: OutboxHandler) -> OutboxHandler:
        HANDLERS[action] = Registered(function, on_failure)
        return function

    return register
