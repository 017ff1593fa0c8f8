"""The registry of outbox handlers: one function per kind of outside call."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapport.core.outside import OutsideRefused, OutsideUnavailable

OutboxHandler = Callable[[dict[str, Any]], dict[str, Any] | None]
# Told of each try that did not succeed: (payload, error, final). `final` is True once the
# outbox gives up, so a user can see the failure and act on it.
OutboxFailureHook = Callable[[dict[str, Any], str, bool], None]
# Told that an admin queued the call again, in the transaction that does it, so the
# object the call is about shows it as waiting again (a failed reply is queued again).
OutboxRequeueHook = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class OutboxSubject:
    """What an outside call is about, as the deliveries page names it (a reply's conversation)."""

    label: str
    url: str = ""


# Given the payloads of a page of items with one action, return what each is about (or
# None), in the same order; read with one query, whatever the number of payloads.
OutboxDescriber = Callable[[list[dict[str, Any]]], list[OutboxSubject | None]]


@dataclass(frozen=True)
class Registered:
    handler: OutboxHandler
    on_failure: OutboxFailureHook | None = None
    on_requeue: OutboxRequeueHook | None = None
    describe: OutboxDescriber | None = None


HANDLERS: dict[str, Registered] = {}


class OutboxRetry(OutsideUnavailable):
    """The call could not be made now; try again after `after` seconds (e.g. a 429)."""


class OutboxFailed(OutsideRefused):
    """The call can never succeed (bad payload, unknown channel); stop trying."""


def outbox_handler(
    action: str,
    *,
    on_failure: OutboxFailureHook | None = None,
    on_requeue: OutboxRequeueHook | None = None,
    describe: OutboxDescriber | None = None,
) -> Callable[[OutboxHandler], OutboxHandler]:
    """Register the function that makes the outside call for *action*.

    The handler gets the item's payload and returns a JSON-able result (kept on the
    item), raises an OutsideUnavailable (OutboxRetry) for a temporary failure or an
    OutsideRefused (OutboxFailed) for a permanent one. *on_failure* is told of every try
    that failed, in its own short transaction; *on_requeue* of an admin's "Retry now";
    *describe* names what the items are about on the deliveries page.
    """

    def register(function: OutboxHandler) -> OutboxHandler:
        HANDLERS[action] = Registered(function, on_failure, on_requeue, describe)
        return function

    return register
